package dev.relay.ingress.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** One poll at a time over real files laid out like a Kubernetes Secret volume. */
class CertificateReloaderTest {

    @TempDir
    Path dir;

    private final List<String> outcomes = new ArrayList<>();

    private CertificateReloader reloader(TestCertificates.SecretVolume volume, ReloadingKeyManager manager)
            throws Exception {
        String served = CertificateReloader.read(volume.certificateFile(), volume.keyFile()).fingerprint();
        return new CertificateReloader(volume.certificateFile(), volume.keyFile(), manager, Clock.systemUTC(),
                new CertificateReloader.Outcome() {
                    @Override
                    public void reloaded(TlsIdentity identity) {
                        outcomes.add("success " + identity.leaf().getSubjectX500Principal().getName());
                    }

                    @Override
                    public void refused(String reason) {
                        outcomes.add("failure");
                    }
                }, served);
    }

    private static TlsIdentity identity(TestCertificates.Pem pem) throws Exception {
        return TlsIdentity.parse(pem.certificateBytes(), pem.keyBytes(), java.time.Instant.now());
    }

    @Test
    void shouldServeARenewalPublishedThroughTheDataSymlink() throws Exception {
        TestCertificates.Pem a = TestCertificates.ec("a.example.test", Duration.ofDays(90));
        TestCertificates.Pem b = TestCertificates.ec("b.example.test", Duration.ofDays(90));
        TestCertificates.SecretVolume volume = new TestCertificates.SecretVolume(dir);
        volume.publish(a);
        ReloadingKeyManager manager = new ReloadingKeyManager(identity(a));
        CertificateReloader reloader = reloader(volume, manager);

        reloader.check();
        assertThat(outcomes).as("unchanged content is not reloaded").isEmpty();

        volume.publish(b);
        reloader.check();
        assertThat(manager.served().leaf()).isEqualTo(b.certificate());
        reloader.check();
        assertThat(outcomes).containsExactly("success CN=b.example.test");
    }

    @Test
    void shouldKeepServingAndReportOnceWhenTheNewPairIsBroken() throws Exception {
        TestCertificates.Pem a = TestCertificates.ec("a.example.test", Duration.ofDays(90));
        TestCertificates.Pem b = TestCertificates.ec("b.example.test", Duration.ofDays(90));
        TestCertificates.Pem c = TestCertificates.ec("c.example.test", Duration.ofDays(90));
        TestCertificates.SecretVolume volume = new TestCertificates.SecretVolume(dir);
        volume.publish(a);
        ReloadingKeyManager manager = new ReloadingKeyManager(identity(a));
        CertificateReloader reloader = reloader(volume, manager);

        volume.publish(b.withKeyOf(c));
        for (int i = 0; i < 5; i++) {
            reloader.check();
        }
        assertThat(manager.served().leaf()).isEqualTo(a.certificate());
        assertThat(outcomes).as("one failure per change, not per poll").containsExactly("failure");

        // a writer that replaces the files in place, one after the other: first the certificate only
        Files.delete(volume.certificateFile());
        Files.delete(volume.keyFile());
        Files.writeString(volume.certificateFile(), c.certificatePem(), StandardCharsets.US_ASCII);
        Files.writeString(volume.keyFile(), a.keyPem(), StandardCharsets.US_ASCII);
        reloader.check();
        assertThat(manager.served().leaf()).isEqualTo(a.certificate());
        Files.writeString(volume.keyFile(), c.keyPem(), StandardCharsets.US_ASCII);
        reloader.check();
        assertThat(manager.served().leaf()).isEqualTo(c.certificate());
        assertThat(outcomes).containsExactly("failure", "failure", "success CN=c.example.test");
    }

    @Test
    void shouldReportAMissingFileOnceAndRecoverWhenItIsBack() throws Exception {
        TestCertificates.Pem a = TestCertificates.ec("a.example.test", Duration.ofDays(90));
        TestCertificates.Pem b = TestCertificates.ec("b.example.test", Duration.ofDays(90));
        TestCertificates.SecretVolume volume = new TestCertificates.SecretVolume(dir);
        volume.publish(a);
        ReloadingKeyManager manager = new ReloadingKeyManager(identity(a));
        CertificateReloader reloader = reloader(volume, manager);

        Files.delete(volume.keyFile());
        reloader.check();
        reloader.check();
        assertThat(manager.served().leaf()).isEqualTo(a.certificate());
        volume.publish(b);
        reloader.check();
        assertThat(manager.served().leaf()).isEqualTo(b.certificate());
        assertThat(outcomes).containsExactly("failure", "success CN=b.example.test");
    }

    @Test
    void shouldKeepTheKeyOfTheAliasAHandshakeChoseAcrossOneReload() throws Exception {
        TestCertificates.Pem a = TestCertificates.ec("a.example.test", Duration.ofDays(90));
        TestCertificates.Pem b = TestCertificates.ec("b.example.test", Duration.ofDays(90));
        ReloadingKeyManager manager = new ReloadingKeyManager(identity(a));
        String chosen = manager.chooseEngineServerAlias("EC", null, null);
        assertThat(chosen).isNotNull();
        assertThat(manager.chooseEngineServerAlias("RSA", null, null)).as("an EC pair for an RSA suite").isNull();
        manager.install(identity(b));
        assertThat(manager.getCertificateChain(chosen)).containsExactly(a.certificate());
        assertThat(manager.getPrivateKey(chosen)).isEqualTo(identity(a).key());
        String next = manager.chooseEngineServerAlias("EC", null, null);
        assertThat(next).isNotEqualTo(chosen);
        assertThat(manager.getCertificateChain(next)).containsExactly(b.certificate());
    }
}
