package dev.relay.ingress.tls;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a certificate/key pair must be before a listener serves it. */
class TlsIdentityTest {

    private static final Instant NOW = Instant.now();

    private static TlsIdentity parse(String certificatePem, String keyPem) throws TlsIdentity.Invalid {
        return TlsIdentity.parse(certificatePem.getBytes(StandardCharsets.US_ASCII),
                keyPem.getBytes(StandardCharsets.US_ASCII), NOW);
    }

    @Test
    void shouldAcceptTheKeyEncodingsIssuersWrite() throws Exception {
        for (String algorithm : new String[]{"EC", "RSA"}) {
            for (TestCertificates.KeyEncoding encoding : TestCertificates.KeyEncoding.values()) {
                TestCertificates.Pem pem = TestCertificates.create("mx.example.test", algorithm,
                        algorithm.equals("EC") ? 256 : 2048, NOW.minus(Duration.ofDays(1)),
                        NOW.plus(Duration.ofDays(90)), encoding);
                TlsIdentity identity = parse(pem.certificatePem(), pem.keyPem());
                assertThat(identity.leaf()).as(algorithm + " " + encoding).isEqualTo(pem.certificate());
                assertThat(identity.key().getAlgorithm()).isEqualTo(algorithm);
            }
        }
        TestCertificates.Pem ec = TestCertificates.create("mx.example.test", "EC", 256,
                NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(90)), TestCertificates.KeyEncoding.TRADITIONAL);
        // the traditional (SEC 1) encoding, as cert-manager writes it, not PKCS#8
        assertThat(new org.bouncycastle.util.io.pem.PemReader(new java.io.StringReader(ec.keyPem()))
                .readPemObject().getType()).isEqualTo("EC " + "PRIVATE KEY");
    }

    @Test
    void shouldKeepTheWholeChainInOrder() throws Exception {
        TestCertificates.Pem leaf = TestCertificates.ec("mx.example.test", Duration.ofDays(90));
        TestCertificates.Pem intermediate = TestCertificates.ec("Intermediate CA", Duration.ofDays(900));
        TlsIdentity identity = parse(leaf.certificatePem() + intermediate.certificatePem(), leaf.keyPem());
        assertThat(identity.chain()).containsExactly(leaf.certificate(), intermediate.certificate());
    }

    @Test
    void shouldRefuseAKeyOfAnotherCertificate() {
        TestCertificates.Pem a = TestCertificates.ec("a.example.test", Duration.ofDays(90));
        TestCertificates.Pem b = TestCertificates.ec("b.example.test", Duration.ofDays(90));
        TestCertificates.Pem rsa = TestCertificates.create("c.example.test", "RSA", 2048,
                NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(9)), TestCertificates.KeyEncoding.PKCS8);
        assertThatThrownBy(() -> parse(a.certificatePem(), b.keyPem()))
                .isInstanceOf(TlsIdentity.Invalid.class).hasMessageContaining("does not belong");
        assertThatThrownBy(() -> parse(a.certificatePem(), rsa.keyPem()))
                .isInstanceOf(TlsIdentity.Invalid.class).hasMessageContaining("does not belong");
    }

    @Test
    void shouldRefuseAnExpiredCertificate() {
        TestCertificates.Pem old = TestCertificates.create("old.example.test", "EC", 256,
                NOW.minus(Duration.ofDays(91)), NOW.minus(Duration.ofDays(1)), TestCertificates.KeyEncoding.PKCS8);
        assertThatThrownBy(() -> parse(old.certificatePem(), old.keyPem()))
                .isInstanceOf(TlsIdentity.Invalid.class).hasMessageContaining("expired");
    }

    @Test
    void shouldRefuseFilesCutOffWhileBeingWritten() {
        TestCertificates.Pem a = TestCertificates.ec("a.example.test", Duration.ofDays(90));
        String halfCertificate = a.certificatePem().substring(0, a.certificatePem().length() / 2);
        String halfKey = a.keyPem().substring(0, a.keyPem().length() / 2);
        assertThatThrownBy(() -> parse(halfCertificate, a.keyPem())).isInstanceOf(TlsIdentity.Invalid.class);
        assertThatThrownBy(() -> parse(a.certificatePem(), halfKey)).isInstanceOf(TlsIdentity.Invalid.class);
        assertThatThrownBy(() -> parse("", a.keyPem())).isInstanceOf(TlsIdentity.Invalid.class)
                .hasMessageContaining("no PEM certificate");
        assertThatThrownBy(() -> parse(a.certificatePem(), "")).isInstanceOf(TlsIdentity.Invalid.class)
                .hasMessageContaining("0 private keys");
        assertThatThrownBy(() -> parse(a.certificatePem(), a.certificatePem())).isInstanceOf(TlsIdentity.Invalid.class);
    }

    @Test
    void shouldNeverQuoteTheKeyInItsReasons() {
        TestCertificates.Pem a = TestCertificates.ec("a.example.test", Duration.ofDays(90));
        String keyBody = a.keyPem().lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat);
        // a key whose base64 is damaged in the middle: the parser's own message could quote it
        String damaged = a.keyPem().replaceFirst("(?m)^(.{10}).{4}", "$1!!!!");
        String reason = "";
        try {
            parse(a.certificatePem(), damaged);
        } catch (TlsIdentity.Invalid e) {
            reason = e.getMessage();
        }
        assertThat(reason).isNotEmpty();
        for (int i = 0; i + 16 <= keyBody.length(); i += 8) {
            assertThat(reason).doesNotContain(keyBody.substring(i, i + 16));
        }
    }
}
