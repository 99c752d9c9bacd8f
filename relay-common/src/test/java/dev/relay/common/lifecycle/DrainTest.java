package dev.relay.common.lifecycle;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class DrainTest {

    @Test
    void shouldWaitUntilNothingIsInFlight() {
        AtomicInteger inFlight = new AtomicInteger(3);
        assertThat(Drain.await(() -> Math.max(0, inFlight.decrementAndGet()), Duration.ofMinutes(1), 1)).isTrue();
        assertThat(inFlight.get()).isLessThanOrEqualTo(0);
    }

    @Test
    void shouldGiveUpAfterTheGracePeriodWithWorkLeft() {
        assertThat(Drain.await(() -> 1, Duration.ofMillis(30), 5)).isFalse();
    }

    @Test
    void shouldStopAtAnInterruptAndKeepItForTheCaller() {
        Thread.currentThread().interrupt();
        try {
            assertThat(Drain.await(() -> 1, Duration.ofMinutes(1), 5)).isFalse();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }
}
