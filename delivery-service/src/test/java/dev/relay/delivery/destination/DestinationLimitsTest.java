package dev.relay.delivery.destination;

import dev.relay.delivery.transport.ConnectionReuse;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad limits fail the start (they are built when the service starts), with the key's name in the message. */
class DestinationLimitsTest {

    private static final Duration MINUTE = Duration.ofMinutes(1);

    @Test
    void shouldRefuseZeroConnections() {
        assertThatThrownBy(() -> new DestinationLimits(0, 10, 0, MINUTE, MINUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max-connections");
    }

    @Test
    void shouldRefuseNegativeQueueOrRate() {
        assertThatThrownBy(() -> new DestinationLimits(1, -1, 0, MINUTE, MINUTE))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DestinationLimits(1, 1, -5, MINUTE, MINUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("messages-per-minute");
    }

    @Test
    void shouldRefuseBackOffMaximumBelowItsStart() {
        assertThatThrownBy(() -> new DestinationLimits(1, 1, 0, Duration.ofMinutes(5), MINUTE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("back-off");
    }

    @Test
    void shouldRefuseBadConnectionReuse() {
        assertThatThrownBy(() -> new ConnectionReuse(0, Duration.ofSeconds(5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max-messages");
        assertThatThrownBy(() -> new ConnectionReuse(10, Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idle-timeout");
    }

    @Test
    void shouldNormaliseDestinationNames() {
        assertThat(Destination.of("MX.Example.ORG.", 25)).isEqualTo(Destination.of("mx.example.org", 25));
        assertThat(Destination.of("mx.example.org", 25)).isNotEqualTo(Destination.of("mx.example.org", 587));
    }
}
