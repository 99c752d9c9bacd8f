package dev.relay.delivery.transport;

import java.util.List;

/** How a session with one target ended. */
public sealed interface HopOutcome {

    /**
     * The server made a decision about every recipient (delivered, or refused at MAIL, RCPT or DATA). Trying
     * another host of the same hop would not be right: the recipient's own server has spoken.
     */
    record Decided(List<RecipientResult> results) implements HopOutcome {
        public Decided {
            results = List.copyOf(results);
        }
    }

    /**
     * No transaction took place: connection refused or lost, timeout, greeting or EHLO refused, 421, TLS demanded
     * but not available. RFC 5321 §5.1: try the next address; if it was the last, every recipient is transient.
     *
     * @param throttled the server answered with a throttling reply (421, 4.7.x): back off from it
     */
    record Unreachable(String reason, boolean throttled) implements HopOutcome {
        public Unreachable(String reason) {
            this(reason, false);
        }
    }

    /**
     * Not attempted: our own per-destination limits hold the target back (back-off after throttling, queue full,
     * messages per minute). Like {@link Unreachable}, the next address may be tried.
     */
    record Held(String reason) implements HopOutcome {
    }
}
