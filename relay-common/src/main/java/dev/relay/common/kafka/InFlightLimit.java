package dev.relay.common.kafka;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A non-blocking semaphore: at most {@code max} records in work at once (the delivery's deliveries, the policy's
 * decisions waiting for Kafka's acknowledgement). {@link #acquire()} completes when a slot is free; while it has
 * not completed, the consumer asks Kafka for no further record (back-pressure).
 */
public final class InFlightLimit {

    private final int max;
    private final ArrayDeque<CompletableFuture<Void>> waiting = new ArrayDeque<>();
    private int inFlight;

    public InFlightLimit(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, was " + max);
        }
        this.max = max;
    }

    public CompletionStage<Void> acquire() {
        synchronized (this) {
            if (inFlight < max) {
                inFlight++;
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> slot = new CompletableFuture<>();
            waiting.add(slot);
            return slot;
        }
    }

    public void release() {
        CompletableFuture<Void> next;
        synchronized (this) {
            next = waiting.poll();
            if (next == null) {
                inFlight--;
                return;
            }
        }
        next.complete(null); // the slot passes to the next waiter; completed outside the lock
    }

    public synchronized int inFlight() {
        return inFlight;
    }
}
