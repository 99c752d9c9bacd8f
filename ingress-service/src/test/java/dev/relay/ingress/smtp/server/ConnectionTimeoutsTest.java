package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.Replies;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionTimeoutsTest {

    private static final long S = 1_000_000_000L;
    private final ConnectionTimeouts timeouts = new ConnectionTimeouts(Duration.ofMinutes(5), Duration.ofMinutes(10), 256);

    @Test
    void shouldCloseIdleSessionsAfterTheCommandTimeout() {
        assertThat(timeouts.verdict(false, 299 * S, 0, 0)).isNull();
        assertThat(timeouts.verdict(false, 301 * S, 0, 0)).isEqualTo(Replies.TIMEOUT);
    }

    @Test
    void shouldAllowSlowButSteadyDataAndCloseStalledOrTricklingData() {
        assertThat(timeouts.verdict(true, 2 * S, 30 * S, 10)).as("inside the grace period").isNull();
        assertThat(timeouts.verdict(true, 2 * S, 120 * S, 120 * 300)).as("300 B/s").isNull();
        assertThat(timeouts.verdict(true, 2 * S, 120 * S, 120 * 100)).isEqualTo(Replies.TOO_SLOW);
        assertThat(timeouts.verdict(true, 601 * S, 700 * S, 1 << 30)).isEqualTo(Replies.TIMEOUT);
    }
}
