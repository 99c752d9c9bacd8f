package dev.relay.delivery.destination;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RateScheduleTest {

    private final Destination mx = Destination.of("mx.example.org", 25);

    @Test
    void shouldNeverWaitWhenUnlimited() {
        RateSchedule unlimited = new RateSchedule(0);

        for (int i = 0; i < 1000; i++) {
            assertThat(unlimited.reserve(mx, 0)).isZero();
        }
    }

    @Test
    void shouldSpreadMessagesEvenlyOverTheMinute() {
        RateSchedule sixty = new RateSchedule(60);

        assertThat(sixty.reserve(mx, 0)).isZero();
        assertThat(sixty.reserve(mx, 0)).isEqualTo(1_000);
        assertThat(sixty.reserve(mx, 500)).isEqualTo(1_500);
        assertThat(sixty.reserve(Destination.of("mx.example.net", 25), 500)).isZero();
    }

    @Test
    void shouldRefuseAMessageThatWouldWaitOverAMinute() {
        RateSchedule two = new RateSchedule(2); // one every 30 s

        assertThat(two.reserve(mx, 0)).isZero();
        assertThat(two.reserve(mx, 0)).isEqualTo(30_000);
        assertThat(two.reserve(mx, 0)).isEqualTo(60_000);
        assertThat(two.reserve(mx, 0)).isEqualTo(-1);
        // a refused message reserves nothing
        assertThat(two.reserve(mx, 30_000)).isEqualTo(60_000);
    }

    @Test
    void shouldStartAfreshAfterAQuietPeriod() {
        RateSchedule sixty = new RateSchedule(60);
        sixty.reserve(mx, 0);
        sixty.reserve(mx, 0);

        assertThat(sixty.reserve(mx, 10_000)).isZero();
    }
}
