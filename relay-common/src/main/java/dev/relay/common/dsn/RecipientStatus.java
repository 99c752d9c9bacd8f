package dev.relay.common.dsn;

import java.util.Objects;

/**
 * The per-recipient part of a delivery status notification (RFC 3464 §2.3).
 *
 * @param recipient      the forward path as the envelope has it (Final-Recipient)
 * @param action         failed, delayed, delivered or relayed (RFC 3464 §2.3.3)
 * @param status         the RFC 3463 status code {@code x.y.z}; its class must fit the action: 4 for delayed;
 *                       5 for failed, or 4 for a failed recipient whose retries expired (a "persistent
 *                       transient failure", RFC 3463 §3.1, e.g. 4.4.7 or the last 4yz reply's code); 2 for
 *                       delivered and relayed (success DSNs, RFC 3461 §5.2.2)
 * @param remoteMta      the host that answered (Remote-MTA: dns; host), null when none did
 * @param diagnosticType the diagnostic type, {@code smtp} for an SMTP reply; null together with diagnostic
 * @param diagnostic     the reply or reason ({@code 550 5.1.1 no such user}), null when there is none
 */
public record RecipientStatus(String recipient, Action action, String status, String remoteMta,
                              String diagnosticType, String diagnostic) {

    public enum Action {
        FAILED, DELAYED,
        /** Delivered to the recipient's mailbox (the final hop); only when NOTIFY asked for SUCCESS. */
        DELIVERED,
        /** Handed to a server that does not offer DSN: no further notifications will come (RFC 3461 §5.2.2). */
        RELAYED;

        /** Whether this reports a success (delivered, relayed), which only NOTIFY=SUCCESS asks for. */
        public boolean success() {
            return this == DELIVERED || this == RELAYED;
        }

        String field() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public RecipientStatus {
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(action, "action");
        if (status == null || !DsnStatus.isValid(status)) {
            throw new IllegalArgumentException("not a status code: " + status);
        }
        boolean fits = switch (action) {
            case FAILED -> status.charAt(0) == '5' || status.charAt(0) == '4';
            case DELAYED -> status.charAt(0) == '4';
            case DELIVERED, RELAYED -> status.charAt(0) == '2';
        };
        if (!fits) {
            throw new IllegalArgumentException("status " + status + " does not fit action " + action.field());
        }
        if (diagnostic != null && diagnosticType == null) {
            diagnosticType = "smtp";
        }
    }

    /**
     * A recipient given up on after its retries expired: Status from the last reply's enhanced code if it is a
     * 4.x.x one, else 4.4.7 (delivery time expired); the last reply as Diagnostic-Code.
     */
    public static RecipientStatus expired(String recipient, String remoteMta, String lastReply) {
        String status = DsnStatus.fromReply(lastReply, '4');
        return new RecipientStatus(recipient, Action.FAILED, status.equals("4.0.0") ? "4.4.7" : status, remoteMta,
                lastReply == null ? null : "smtp", lastReply);
    }

    /** Still being retried: Status from the last reply's enhanced code if it is a 4.x.x one, else 4.0.0. */
    public static RecipientStatus delayed(String recipient, String remoteMta, String lastReply) {
        return new RecipientStatus(recipient, Action.DELAYED, DsnStatus.fromReply(lastReply, '4'), remoteMta,
                lastReply == null ? null : "smtp", lastReply);
    }

    /** A permanent failure with the remote server's reply (Status from its enhanced code, else 5.0.0). */
    public static RecipientStatus failed(String recipient, String remoteMta, String smtpReply) {
        return new RecipientStatus(recipient, Action.FAILED, DsnStatus.fromReply(smtpReply, '5'), remoteMta,
                smtpReply == null ? null : "smtp", smtpReply);
    }
}
