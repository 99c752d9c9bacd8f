package dev.relay.common.kafka;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletionStage;

import static org.assertj.core.api.Assertions.assertThat;

class InFlightLimitTest {

    @Test
    void shouldAdmitUpToLimitAndThenWaitForRelease() {
        InFlightLimit limit = new InFlightLimit(2);

        CompletionStage<Void> first = limit.acquire();
        CompletionStage<Void> second = limit.acquire();
        CompletionStage<Void> third = limit.acquire();

        assertThat(first.toCompletableFuture()).isDone();
        assertThat(second.toCompletableFuture()).isDone();
        assertThat(third.toCompletableFuture()).isNotDone();

        limit.release();

        assertThat(third.toCompletableFuture()).isDone();
        assertThat(limit.inFlight()).isEqualTo(2);
    }
}
