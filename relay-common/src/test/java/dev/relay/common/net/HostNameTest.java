package dev.relay.common.net;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class HostNameTest {

    @Test
    void shouldPreferTheConfiguredName() {
        assertThat(HostName.of(Optional.of("mx1.example.test"))).isEqualTo("mx1.example.test");
    }

    @Test
    void shouldUseTheCanonicalLocalNameWhenNoneOrABlankOneIsConfigured() throws Exception {
        String canonical = InetAddress.getLocalHost().getCanonicalHostName();
        assertThat(HostName.of(Optional.empty())).isEqualTo(canonical);
        assertThat(HostName.of(Optional.of("  "))).isEqualTo(canonical);
        assertThat(HostName.local()).isEqualTo(canonical);
    }
}
