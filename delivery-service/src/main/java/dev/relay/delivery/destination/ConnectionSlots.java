package dev.relay.delivery.destination;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * At most {@code max} open connections per destination. A delivery that finds every slot taken waits in that
 * destination's own FIFO queue — as a promise, never a blocked thread — so a slow destination holds up only its
 * own deliveries. The queue is bounded; beyond it the delivery is refused at once (and deferred by the caller).
 * A waiting delivery is woken either with a slot of its own ({@code true}: open a connection) or because an open
 * connection became idle ({@code false}: take it from the pool; the slot stays with that connection).
 */
final class ConnectionSlots {

    private static final class Slots {
        int open;
        final ArrayDeque<Promise<Boolean>> waiting = new ArrayDeque<>();
    }

    private final int max;
    private final int maxQueue;
    private final Map<Destination, Slots> slots = new HashMap<>();

    ConnectionSlots(int max, int maxQueue) {
        this.max = max;
        this.maxQueue = maxQueue;
    }

    /**
     * A slot for one more connection: completes with true at once when one is free or later when one is released,
     * with false when an idle connection was offered instead ({@link #offerIdle}), or fails with
     * {@link DestinationBusyException} when the queue is full.
     */
    Future<Boolean> acquire(Destination destination) {
        synchronized (this) {
            Slots s = slots.computeIfAbsent(destination, d -> new Slots());
            if (s.open < max) {
                s.open++;
                return Future.succeededFuture(true);
            }
            if (s.waiting.size() >= maxQueue) {
                return Future.failedFuture(new DestinationBusyException(destination + ": " + s.open
                        + " connections open and " + s.waiting.size() + " deliveries waiting"));
            }
            Promise<Boolean> promise = Promise.promise();
            s.waiting.add(promise);
            return promise.future();
        }
    }

    /** Gives a slot back: to the first waiting delivery of the destination, else it becomes free. */
    void release(Destination destination) {
        Promise<Boolean> next;
        synchronized (this) {
            Slots s = slots.get(destination);
            if (s == null) {
                return;
            }
            next = s.waiting.poll();
            if (next == null) {
                s.open--;
                if (s.open <= 0) {
                    slots.remove(destination);
                }
            }
        }
        if (next != null) {
            next.complete(true); // outside the lock: the waiter goes on to connect right here
        }
    }

    /** A connection of the destination became idle: wakes the first waiting delivery to use it. */
    boolean offerIdle(Destination destination) {
        Promise<Boolean> next;
        synchronized (this) {
            Slots s = slots.get(destination);
            next = s == null ? null : s.waiting.poll();
        }
        if (next != null) {
            next.complete(false);
        }
        return next != null;
    }

    synchronized boolean hasWaiting(Destination destination) {
        Slots s = slots.get(destination);
        return s != null && !s.waiting.isEmpty();
    }

    synchronized int open(Destination destination) {
        Slots s = slots.get(destination);
        return s == null ? 0 : s.open;
    }
}
