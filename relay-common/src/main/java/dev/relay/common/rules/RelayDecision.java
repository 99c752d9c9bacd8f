package dev.relay.common.rules;

/** The outcome of a relay rule for one recipient; {@code rule} names what decided, for logs and events. */
public sealed interface RelayDecision {

    String rule();

    record Allow(String rule) implements RelayDecision {
    }

    record Deny(String rule, String reason) implements RelayDecision {
    }

    default boolean allowed() {
        return this instanceof Allow;
    }
}
