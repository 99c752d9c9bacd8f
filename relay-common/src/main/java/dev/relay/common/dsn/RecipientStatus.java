package dev.relay.common.dsn;

import java.util.Objects;

/**
 * The per-recipient part of a delivery status notification (RFC 3464 §2.3).
 *
 * @param recipient      the forward path as the envelope has it (Final-Recipient)
 * @param action         failed or delayed
 * @param status         the RFC 3463 status code {@code x.y.z}; its class must fit the action (5 for failed,
 *                       4 for delayed)
 * @param remoteMta      the host that answered (Remote-MTA: dns; host), null when none did
 * @param diagnosticType the diagnostic type, {@code smtp} for an SMTP reply; null together with diagnostic
 * @param diagnostic     the reply or reason ({@code 550 5.1.1 no such user}), null when there is none
 */
public record RecipientStatus(String recipient, Action action, String status, String remoteMta,
                              String diagnosticType, String diagnostic) {

    public enum Action {
        FAILED, DELAYED;

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
        char expected = action == Action.FAILED ? '5' : '4';
        if (status.charAt(0) != expected) {
            throw new IllegalArgumentException("status " + status + " does not fit action " + action.field());
        }
        if (diagnostic != null && diagnosticType == null) {
            diagnosticType = "smtp";
        }
    }

    /** A permanent failure with the remote server's reply (Status from its enhanced code, else 5.0.0). */
    public static RecipientStatus failed(String recipient, String remoteMta, String smtpReply) {
        return new RecipientStatus(recipient, Action.FAILED, DsnStatus.fromReply(smtpReply, '5'), remoteMta,
                smtpReply == null ? null : "smtp", smtpReply);
    }
}
