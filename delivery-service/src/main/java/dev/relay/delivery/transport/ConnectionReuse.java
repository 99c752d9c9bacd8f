package dev.relay.delivery.transport;

import java.time.Duration;

/**
 * How long and how often an outbound connection is reused for further messages to the same target.
 *
 * @param maxMessages transactions per connection before it is closed; 1 = no reuse
 * @param idleTimeout an idle pooled connection is closed (with QUIT) after this; zero = no reuse
 */
public record ConnectionReuse(int maxMessages, Duration idleTimeout) {

    public ConnectionReuse {
        if (maxMessages < 1) {
            throw new IllegalArgumentException("connection max-messages must be at least 1");
        }
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("connection idle-timeout must not be negative");
        }
    }

    public static ConnectionReuse none() {
        return new ConnectionReuse(1, Duration.ZERO);
    }

    boolean enabled() {
        return maxMessages > 1 && !idleTimeout.isZero();
    }
}
