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
     * No transaction took place: connection refused or lost, timeout, greeting or EHLO refused, TLS demanded
     * but not available. RFC 5321 §5.1: try the next address; if it was the last, every recipient is transient.
     */
    record Unreachable(String reason) implements HopOutcome {
    }
}
