package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.RecipientResult;

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
     * @param throttled      the server answered with a throttling reply (421, 4.7.x): back off from it
     * @param enhancedStatus the RFC 3463 status of the deferral when it says more than "could not connect"
     *                       ({@code 4.7.5}: the certificate failed the DANE or {@code verify} check); null: 4.4.1
     */
    record Unreachable(String reason, boolean throttled, String enhancedStatus) implements HopOutcome {
        public Unreachable(String reason) {
            this(reason, false, null);
        }

        public Unreachable(String reason, boolean throttled) {
            this(reason, throttled, null);
        }
    }

    /**
     * Not attempted: our own per-destination limits hold the target back (back-off after throttling, queue full,
     * messages per minute). Like {@link Unreachable}, the next address may be tried.
     */
    record Held(String reason) implements HopOutcome {
    }

    /**
     * The hop cannot take mail from us for a reason of ours that another address of the same hop would not change:
     * our credential is missing, refused (535) or must not be sent (no TLS, mechanism not offered). Every recipient
     * gets {@code reason} as a transient result ({@link SmtpClient} turns this into a {@link Decided}); the
     * message stays queued and is retried, as for any 4yz.
     *
     * @param reason our own {@code 454 4.7.0 …} diagnostic, with the remote reply in its text when there was one
     */
    record Refused(Diagnostic reason) implements HopOutcome {
    }

    /**
     * The server greeted us (220 banner or EHLO/HELO reply) with our own name: it is ourselves, and mail handed to
     * it would come straight back. The connection is quit at once and the recipients bounce with {@code 5.4.6}
     * ({@link SmtpClient} turns this into a {@link Decided}); no other host of the hop is tried, as Postfix does.
     *
     * @param reason what the server said, e.g. {@code greeting: 220 relay.example.org ESMTP}
     */
    record LoopsBack(String reason) implements HopOutcome {
    }
}
