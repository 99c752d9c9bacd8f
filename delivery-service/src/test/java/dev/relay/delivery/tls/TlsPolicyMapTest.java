package dev.relay.delivery.tls;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TlsPolicyMapTest {

    @Test
    void shouldFindTheExactEntryFirstThenTheClosestParent() {
        TlsPolicyMap map = TlsPolicyMap.parse(List.of("example.org=verify;match=mx.example.org:.example.net",
                ".example.org=encrypt", ".org=may", "Bank.Example.=dane-only"));

        assertThat(map.lookup("EXAMPLE.org").orElseThrow().level()).isEqualTo(TlsPolicyMap.Level.VERIFY);
        assertThat(map.lookup("example.org").orElseThrow().match()).containsExactly("mx.example.org", ".example.net");
        assertThat(map.lookup("sub.example.org").orElseThrow().level()).isEqualTo(TlsPolicyMap.Level.ENCRYPT);
        assertThat(map.lookup("a.b.example.org").orElseThrow().level()).isEqualTo(TlsPolicyMap.Level.ENCRYPT);
        assertThat(map.lookup("other.org").orElseThrow().level()).isEqualTo(TlsPolicyMap.Level.MAY);
        assertThat(map.lookup("bank.example").orElseThrow().level()).isEqualTo(TlsPolicyMap.Level.DANE_ONLY);
        assertThat(map.lookup("example.com")).isEmpty();
        assertThat(map.lookup("org")).isEmpty(); // ".org" is the domains under org, not org itself
    }

    @Test
    void shouldKnowEveryPostfixPolicy() {
        TlsPolicyMap map = TlsPolicyMap.parse(List.of("a.test=none", "b.test=may", "c.test=encrypt",
                "d.test=verify", "e.test=secure", "f.test=dane", "g.test=dane-only"));

        assertThat(List.of("a", "b", "c", "d", "e", "f", "g").stream()
                .map(d -> map.lookup(d + ".test").orElseThrow().level().tag()))
                .containsExactly("none", "may", "encrypt", "verify", "secure", "dane", "dane-only");
    }

    @Test
    void shouldRefuseMalformedEntriesWithTheEntryNamed() {
        assertThatThrownBy(() -> TlsPolicyMap.parse(List.of("example.org=maybe")))
                .hasMessageContaining("unknown TLS policy 'maybe'").hasMessageContaining("example.org=maybe");
        assertThatThrownBy(() -> TlsPolicyMap.parse(List.of("example.org")))
                .hasMessageContaining("domain=policy");
        assertThatThrownBy(() -> TlsPolicyMap.parse(List.of("example.org=encrypt;match=mx.example.org")))
                .hasMessageContaining("match= applies to verify and secure only");
        assertThatThrownBy(() -> TlsPolicyMap.parse(List.of("example.org=verify;ciphers=high")))
                .hasMessageContaining("unknown option 'ciphers=high'");
        assertThatThrownBy(() -> TlsPolicyMap.parse(List.of("example.org=may", "EXAMPLE.ORG=none")))
                .hasMessageContaining("twice");
    }
}
