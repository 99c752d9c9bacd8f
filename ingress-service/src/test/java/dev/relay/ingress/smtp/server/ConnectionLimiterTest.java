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
}
