package dev.relay.delivery.tls;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CertificateNamesTest {

    @Test
    void shouldMatchNamesWildcardsAndParentDomainsAsPostfix() {
        assertThat(CertificateNames.matches("mx.example.org", "mx.example.org")).isTrue();
        assertThat(CertificateNames.matches("*.example.org", "mx.example.org")).isTrue();
        assertThat(CertificateNames.matches("*.example.org", "a.mx.example.org")).isFalse(); // one label only
        assertThat(CertificateNames.matches("*.example.org", "example.org")).isFalse();
        assertThat(CertificateNames.matches("mx.example.org", ".example.org")).isTrue();
        assertThat(CertificateNames.matches("a.b.example.org", ".example.org")).isTrue();
        assertThat(CertificateNames.matches("*.example.org", ".example.org")).isTrue();
        assertThat(CertificateNames.matches("example.org", ".example.org")).isFalse();
        assertThat(CertificateNames.matches("badexample.org", ".example.org")).isFalse();
        assertThat(CertificateNames.matches("mx.example.org.evil.test", ".example.org")).isFalse();
    }

    @Test
    void shouldReadTheSubjectAltNames() {
        TestPki.Issued leaf = TestPki.selfSigned("MX.Example.org", "*.mail.example.org");

        assertThat(CertificateNames.of(leaf.certificate())).containsExactly("mx.example.org", "*.mail.example.org");
        assertThat(CertificateNames.matchesAny(leaf.certificate(), List.of("in.mail.example.org"))).isTrue();
        assertThat(CertificateNames.matchesAny(leaf.certificate(), List.of("example.org"))).isFalse();
    }
}
