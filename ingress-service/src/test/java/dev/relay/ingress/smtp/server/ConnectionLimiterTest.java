package dev.relay.ingress.smtp.server;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionLimiterTest {

    @Test
    void shouldLimitConnectionsPerClientAndInTotal() {
        ConnectionLimiter limiter = new ConnectionLimiter(3, 2);
        assertThat(limiter.tryAcquire("192.0.2.1")).isTrue();
        assertThat(limiter.tryAcquire("192.0.2.1")).isTrue();
        assertThat(limiter.tryAcquire("192.0.2.1")).as("per client").isFalse();
        assertThat(limiter.tryAcquire("192.0.2.2")).isTrue();
        assertThat(limiter.tryAcquire("192.0.2.3")).as("in total").isFalse();
        assertThat(limiter.open()).isEqualTo(3);
        limiter.release("192.0.2.1");
        assertThat(limiter.tryAcquire("192.0.2.3")).isTrue();
        assertThat(limiter.tryAcquire("192.0.2.1")).isFalse();
    }

    @Test
    void shouldForgetClientsWhoseConnectionsAllClosed() {
        ConnectionLimiter limiter = new ConnectionLimiter(10, 1);
        assertThat(limiter.tryAcquire("192.0.2.1")).isTrue();
        limiter.release("192.0.2.1");
        assertThat(limiter.open()).isZero();
        assertThat(limiter.tryAcquire("192.0.2.1")).isTrue();
    }

    /** Issue 12, item 10: one /64 is one client, however many of its addresses connect. */
    @Test
    void shouldCountAnIpv6ClientByItsSlash64() {
        ConnectionLimiter limiter = new ConnectionLimiter(100, 2, 64);
        assertThat(limiter.tryAcquire("2001:db8:1:2::1")).isTrue();
        assertThat(limiter.tryAcquire("2001:db8:1:2:ffff:ffff:ffff:fffe")).isTrue();
        for (int i = 3; i < 50; i++) {
            assertThat(limiter.tryAcquire("2001:db8:1:2::" + Integer.toHexString(i))).as("address %d", i).isFalse();
        }
        assertThat(limiter.tryAcquire("2001:db8:1:3::1")).as("the next /64").isTrue();
        limiter.release("2001:db8:1:2::1");
        assertThat(limiter.tryAcquire("2001:db8:1:2::99")).isTrue();
        assertThat(limiter.tryAcquire("192.0.2.1")).isTrue();
        assertThat(limiter.tryAcquire("192.0.2.2")).as("IPv4 stays per address").isTrue();
    }

    @Test
    void shouldKeyByTheConfiguredPrefix() {
        ConnectionLimiter limiter = new ConnectionLimiter(100, 1, 48);
        assertThat(limiter.tryAcquire("2001:db8:1:2::1")).isTrue();
        assertThat(limiter.tryAcquire("2001:db8:1:ffff::1")).as("same /48").isFalse();
    }
}
