package dev.relay.delivery.destination;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class BackOffTest {

    private static final long MINUTE = 60_000;
    private final BackOff backOff = new BackOff(Duration.ofMinutes(1), Duration.ofMinutes(4));
    private final Destination mx = Destination.of("MX.example.org.", 25);
    private final Destination other = Destination.of("mx.example.net", 25);

    @Test
    void shouldHoldDestinationForTheInitialPeriod() {
        backOff.throttled(mx, 0);

        assertThat(backOff.remaining(mx, 30_000)).isEqualTo(30_000);
        assertThat(backOff.remaining(mx, MINUTE)).isZero();
        assertThat(backOff.remaining(other, 30_000)).isZero();
    }

    @Test
    void shouldDoubleThePeriodUpToTheMaximum() {
        assertThat(backOff.throttled(mx, 0)).isEqualTo(Duration.ofMinutes(1));
        assertThat(backOff.throttled(mx, MINUTE)).isEqualTo(Duration.ofMinutes(2));
        assertThat(backOff.throttled(mx, 3 * MINUTE)).isEqualTo(Duration.ofMinutes(4));
        assertThat(backOff.throttled(mx, 7 * MINUTE)).isEqualTo(Duration.ofMinutes(4));
    }

    @Test
    void shouldNotGrowWhenSeveralConnectionsReportTheSameThrottling() {
        backOff.throttled(mx, 0);

        assertThat(backOff.throttled(mx, 1_000)).isEqualTo(Duration.ofMinutes(1));
        assertThat(backOff.remaining(mx, 1_000)).isEqualTo(MINUTE);
    }

    @Test
    void shouldForgetTheHistoryAfterASuccess() {
        backOff.throttled(mx, 0);
        backOff.throttled(mx, MINUTE);
        backOff.succeeded(mx);

        assertThat(backOff.throttled(mx, 3 * MINUTE)).isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void shouldCountOnlyDestinationsStillBackingOff() {
        backOff.throttled(mx, 0);
        backOff.throttled(other, 30_000);

        assertThat(backOff.active(45_000)).isEqualTo(2);
        assertThat(backOff.active(MINUTE + 1)).isEqualTo(1);
        assertThat(backOff.active(10 * MINUTE)).isZero();
    }
}
