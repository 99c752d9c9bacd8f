package dev.relay.common.kafka;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicsTest {

    @Test
    void shouldNameOneRetryTierPerDistinctDelay() {
        assertThat(Topics.retryTiers(Topics.RETRY_PREFIX, Topics.DEFAULT_RETRY_SCHEDULE)).containsExactly(
                "relay.retry.v1.1m", "relay.retry.v1.5m", "relay.retry.v1.15m", "relay.retry.v1.30m",
                "relay.retry.v1.1h", "relay.retry.v1.2h", "relay.retry.v1.4h", "relay.retry.v1.8h");
        assertThat(Topics.retryTiers("r", List.of(Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ofSeconds(2), Duration.ofSeconds(90), Duration.ofMillis(1500), Duration.ofDays(1))))
                .containsExactly("r.1s", "r.2s", "r.90s", "r.1500ms", "r.1d");
    }

    @Test
    void shouldRefuseADelayThatIsNotPositive() {
        assertThatThrownBy(() -> Topics.delayLabel(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Topics.delayLabel(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
