package dev.relay.delivery.destination;

import java.time.Duration;

/**
 * The limits every destination gets (per worker: with N delivery instances a destination sees up to N times
 * these).
 *
 * @param maxConnections   open connections per destination, idle pooled ones included
 * @param maxQueue         deliveries waiting for a connection slot of one destination; beyond, deferred
 * @param messagesPerMinute transactions started per minute per destination; 0 = unlimited
 * @param backoffInitial   how long a destination that answered with a throttling reply is left alone
 * @param backoffMax       the back-off doubles with every further throttling reply, up to this
 */
public record DestinationLimits(int maxConnections, int maxQueue, int messagesPerMinute, Duration backoffInitial,
                                Duration backoffMax) {

    public DestinationLimits {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("max-connections must be at least 1");
        }
        if (maxQueue < 0 || messagesPerMinute < 0) {
            throw new IllegalArgumentException("max-queue and messages-per-minute must not be negative");
        }
        if (backoffInitial.isNegative() || backoffMax.compareTo(backoffInitial) < 0) {
            throw new IllegalArgumentException("back-off must satisfy 0 <= initial <= max");
        }
    }

    /** Generous limits for tests and tools that do not care. */
    public static DestinationLimits unlimited() {
        return new DestinationLimits(Integer.MAX_VALUE, Integer.MAX_VALUE, 0, Duration.ZERO, Duration.ZERO);
    }
}
