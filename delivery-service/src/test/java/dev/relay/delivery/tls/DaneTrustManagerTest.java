package dev.relay.delivery.tls;

import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The TLSA matching rules of RFC 7672 §3 on certificates made at run time (the socket tests are in DaneDeliveryTest). */
class DaneTrustManagerTest {

    @Test
    void shouldMatchEveryUsableSelectorAndMatchingType() throws Exception {
        TestPki.Issued leaf = TestPki.selfSigned("mx.example.org");
        byte[] cert = leaf.certificate().getEncoded();
        byte[] spki = leaf.certificate().getPublicKey().getEncoded();

        for (TlsaRecord tlsa : List.of(new TlsaRecord(3, 0, 0, cert), new TlsaRecord(3, 1, 0, spki),
                new TlsaRecord(3, 0, 1, TestPki.sha256(cert)), new TlsaRecord(3, 1, 1, TestPki.sha256(spki)),
                new TlsaRecord(3, 0, 2, MessageDigest.getInstance("SHA-512").digest(cert)),
                new TlsaRecord(3, 1, 2, MessageDigest.getInstance("SHA-512").digest(spki)))) {
            assertThatCode(() -> check(List.of(tlsa), leaf.chain())).as(tlsa.toString()).doesNotThrowAnyException();
        }
    }

    @Test
    void shouldIgnoreUnusableRecordsEvenWhenTheyWouldMatch() {
        TestPki.Issued leaf = TestPki.selfSigned("mx.example.org");

        assertThatThrownBy(() -> check(List.of(new TlsaRecord(1, 1, 1, leaf.spkiSha256()),
                new TlsaRecord(3, 1, 1, new byte[31])), leaf.chain()))
                .isInstanceOf(CertificateException.class)
                .hasMessage("DANE: no TLSA record matches the certificate of mx.example.org");
    }

    @Test
    void shouldRefuseADaneTaAnchorThatDidNotSignTheChain() {
        TestPki.Issued realCa = TestPki.ca("Real CA");
        TestPki.Issued otherCa = TestPki.ca("Real CA"); // same name, another key
        TestPki.Issued leaf = TestPki.issue(realCa, "mx.example.org");
        X509Certificate[] forged = {leaf.certificate(), otherCa.certificate()};

        assertThatThrownBy(() -> check(List.of(new TlsaRecord(2, 1, 1, otherCa.spkiSha256())), forged))
                .isInstanceOf(CertificateException.class);
        assertThatCode(() -> check(List.of(new TlsaRecord(2, 1, 1, realCa.spkiSha256())), leaf.chain()))
                .doesNotThrowAnyException();
    }

    @Test
    void shouldNotTakeTheLeafForADaneTaAnchor() {
        TestPki.Issued leaf = TestPki.selfSigned("mx.example.org");

        assertThatThrownBy(() -> check(List.of(new TlsaRecord(2, 1, 1, leaf.spkiSha256())), leaf.chain()))
                .isInstanceOf(CertificateException.class);
    }

    private static void check(List<TlsaRecord> records, X509Certificate[] chain) throws CertificateException {
        new DaneTrustManager("mx.example.org", records).checkServerTrusted(chain, "UNKNOWN");
    }
}
