package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionTimeoutsTest {

    private static final long S = 1_000_000_000L;
    private final ConnectionTimeouts timeouts = new ConnectionTimeouts(Duration.ofMinutes(5), Duration.ofMinutes(10),
            256, Duration.ofSeconds(60), Duration.ofMinutes(30));

    @Test
    void shouldCloseIdleSessionsAfterTheCommandTimeout() {
        assertThat(timeouts.verdict(false, 299 * S, 0, -1)).isNull();
        assertThat(timeouts.verdict(false, 301 * S, 0, -1)).isEqualTo(Replies.TIMEOUT);
    }

    @Test
    void shouldAllowSlowButSteadyDataAndCloseStalledOrTricklingData() {
        assertThat(timeouts.verdict(true, 2 * S, 30 * S, -1)).as("inside the first window").isNull();
        assertThat(timeouts.verdict(true, 2 * S, 120 * S, 60 * 300)).as("300 B/s").isNull();
        assertThat(timeouts.verdict(true, 2 * S, 120 * S, 60 * 100)).isEqualTo(Replies.TOO_SLOW);
        assertThat(timeouts.verdict(true, 601 * S, 700 * S, 1 << 30)).isEqualTo(Replies.TIMEOUT);
    }

    @Test
    void shouldCapTheWholeMessageTransfer() {
        assertThat(timeouts.verdict(true, S, 29 * 60 * S, 1 << 20)).isNull();
        assertThat(timeouts.verdict(true, S, 31 * 60 * S, 1 << 20)).isEqualTo(Replies.MESSAGE_TOO_SLOW);
    }

    /**
     * Slow-hold: 5 MiB in the first second, then 10 bytes a second. Averaged from the start (the old rule) that stays
     * above 256 B/s for about 5.7 hours; judged over the sliding window it is closed one window after the burst.
     */
    @Test
    void shouldCloseAClientThatSendsFastAndThenTrickles() {
        RateWindow window = new RateWindow(timeouts.windowTicks());
        long total = 0;
        Reply verdict = null;
        int second = 0;
        while (verdict == null && second < 6 * 3600) {
            second++;
            total += second == 1 ? 5 << 20 : 10;
            verdict = timeouts.verdict(true, S, second * S, window.tick(total));
        }
        assertThat(verdict).isEqualTo(Replies.TOO_SLOW);
        assertThat(second).as("closed one window after the burst, not hours later").isLessThanOrEqualTo(62);
    }

    @Test
    void shouldJudgeOnlyTheLastWindow() {
        RateWindow window = new RateWindow(3);
        assertThat(window.tick(100)).isEqualTo(-1);
        assertThat(window.tick(200)).isEqualTo(-1);
        assertThat(window.tick(300)).isEqualTo(-1);
        assertThat(window.tick(400)).isEqualTo(300);
        assertThat(window.tick(400)).isEqualTo(200);
        window.reset();
        assertThat(window.tick(0)).isEqualTo(-1);
    }
}
