package dev.relay.delivery.mx;

import dev.relay.delivery.transport.TlsPolicy;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NextHopSpecTest {

    @Test
    void shouldParseHostAndPort() {
        assertThat(NextHopSpec.parse("smtp.example.net:587"))
                .isEqualTo(new NextHopSpec("smtp.example.net", 587, TlsPolicy.OPPORTUNISTIC));
    }

    @Test
    void shouldParseTlsPolicy() {
        assertThat(NextHopSpec.parse("smtp.example.net:25;tls=verify").tls()).isEqualTo(TlsPolicy.VERIFY);
    }

    @Test
    void shouldParseBracketedIpv6() {
        assertThat(NextHopSpec.parse("[::1]:2525")).isEqualTo(new NextHopSpec("::1", 2525, TlsPolicy.OPPORTUNISTIC));
    }

    @Test
    void shouldLeavePortToDefaultWhenMissing() {
        assertThat(NextHopSpec.parse("relay.internal").port()).isZero();
    }

    @Test
    void shouldRefuseBadPort() {
        assertThatThrownBy(() -> NextHopSpec.parse("host:99999")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldParseInternalFlagWithAndWithoutTls() {
        assertThat(NextHopSpec.parse("127.0.0.1:2526;internal"))
                .isEqualTo(new NextHopSpec("127.0.0.1", 2526, TlsPolicy.OPPORTUNISTIC, true));
        assertThat(NextHopSpec.parse("store.internal:25;tls=required;internal"))
                .isEqualTo(new NextHopSpec("store.internal", 25, TlsPolicy.REQUIRED, true));
        assertThat(NextHopSpec.parse("store.internal:25; internal ;tls=none"))
                .isEqualTo(new NextHopSpec("store.internal", 25, TlsPolicy.NONE, true));
        assertThat(NextHopSpec.parse("smtp.example.net:25;tls=none").internal()).isFalse();
    }

    @Test
    void shouldRefuseUnknownOption() {
        assertThatThrownBy(() -> NextHopSpec.parse("host:25;private")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldParseAuthAndRaiseTheTlsPolicy() {
        NextHopSpec hop = NextHopSpec.parse("smtp.example.net:587;auth=provider-1");
        assertThat(hop.auth()).isEqualTo("provider-1");
        assertThat(hop.tls()).as("a credential is only sent over TLS").isEqualTo(TlsPolicy.REQUIRED);
        assertThat(NextHopSpec.parse("smtp.example.net:587;tls=verify;auth=p").tls()).isEqualTo(TlsPolicy.VERIFY);
        assertThat(NextHopSpec.parse("smtp.example.net:587").auth()).isNull();
    }

    @Test
    void shouldRefuseAuthWithoutTlsOrWithABadName() {
        assertThatThrownBy(() -> NextHopSpec.parse("smtp.example.net:587;tls=none;auth=provider"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs TLS");
        assertThatThrownBy(() -> NextHopSpec.parse("smtp.example.net:587;auth=../secrets"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("credential name");
        assertThatThrownBy(() -> NextHopSpec.parse("smtp.example.net:587;auth=Provider"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
