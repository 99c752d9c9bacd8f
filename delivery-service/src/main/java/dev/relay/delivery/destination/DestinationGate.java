package dev.relay.delivery.destination;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Per-destination limits in one place, used by the SMTP client before it connects: back-off after throttling
 * replies, messages per minute, and connection slots. The limits hold per worker: with N delivery instances a
 * destination may see N times {@code max-connections} and {@code messages-per-minute}. Nothing here blocks: a
 * delivery that must wait gets a future that completes later (a timer, or a slot handed over).
 */
public final class DestinationGate {

    private final Vertx vertx;
    private final LongSupplier clock;
    private final BackOff backOff;
    private final RateSchedule rate;
    private final ConnectionSlots slots;

    public DestinationGate(Vertx vertx, DestinationLimits limits) {
        this(vertx, limits, System::currentTimeMillis);
    }

    public DestinationGate(Vertx vertx, DestinationLimits limits, LongSupplier clock) {
        this.vertx = vertx;
        this.clock = clock;
        this.backOff = new BackOff(limits.backoffInitial(), limits.backoffMax());
        this.rate = new RateSchedule(limits.messagesPerMinute());
        this.slots = new ConnectionSlots(limits.maxConnections(), limits.maxQueue());
    }

    /** How long the destination is still left alone after a throttling reply; zero when it may be tried. */
    public Duration backingOff(Destination destination) {
        return Duration.ofMillis(backOff.remaining(destination, clock.getAsLong()));
    }

    /** The destination answered with a throttling reply: leave it alone for a while. Returns the period. */
    public Duration throttled(Destination destination) {
        return backOff.throttled(destination, clock.getAsLong());
    }

    /** A transaction with the destination went through without throttling: its back-off history is forgotten. */
    public void succeeded(Destination destination) {
        backOff.succeeded(destination);
    }

    /**
     * Admission of one message under {@code messages-per-minute}: completes when it may start (at once, or after a
     * short wait on a timer), or fails with {@link DestinationBusyException} when it would wait over a minute.
     */
    public Future<Void> admitMessage(Destination destination) {
        long wait = rate.reserve(destination, clock.getAsLong());
        if (wait < 0) {
            return Future.failedFuture(new DestinationBusyException(destination
                    + ": messages-per-minute limit reached"));
        }
        if (wait == 0) {
            return Future.succeededFuture();
        }
        Promise<Void> later = Promise.promise();
        vertx.setTimer(wait, id -> later.complete());
        return later.future();
    }

    /**
     * A slot for one more connection: true when granted (give it back with {@link #release}), false when an idle
     * pooled connection of the destination was offered instead; fails with {@link DestinationBusyException}.
     */
    public Future<Boolean> acquireConnection(Destination destination) {
        return slots.acquire(destination);
    }

    /** A pooled connection of the destination became idle: hand it to the first delivery waiting for a slot. */
    public boolean offerIdle(Destination destination) {
        return slots.offerIdle(destination);
    }

    public void release(Destination destination) {
        slots.release(destination);
    }

    /** Someone waits for a slot of this destination. */
    public boolean hasWaiting(Destination destination) {
        return slots.hasWaiting(destination);
    }

    public int openConnections(Destination destination) {
        return slots.open(destination);
    }

    /** Destinations in back-off now, for the gauge. */
    public int backingOffCount() {
        return backOff.active(clock.getAsLong());
    }
}
