package dev.relay.common.rules;

/** Messages and recipients counted in a {@link Slot}. */
public record Count(long messages, long recipients) {
    public static final Count ZERO = new Count(0, 0);

    public Count plus(Count other) {
        return new Count(messages + other.messages, recipients + other.recipients);
    }

    public Count minus(Count other) {
        return new Count(messages - other.messages, recipients - other.recipients);
    }
}
