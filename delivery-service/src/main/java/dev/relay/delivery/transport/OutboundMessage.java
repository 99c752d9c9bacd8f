package dev.relay.delivery.transport;

import dev.relay.common.envelope.Dsn;

import java.util.List;

/**
 * One SMTP transaction to send.
 *
 * @param messageId  Relay's queue id, for logs only
 * @param mailFrom   the reverse path without brackets; "" for the null sender
 * @param recipients the forward paths for this hop
 * @param data       the message exactly as stored (CRLF line endings), sent byte for byte
 * @param eightBit   the envelope declared BODY=8BITMIME (or BINARYMIME)
 * @param smtputf8   the envelope asked for SMTPUTF8 (RFC 6531)
 * @param dsn        RFC 3461 parameters to pass on to a server that offers DSN; null when none
 */
public record OutboundMessage(String messageId, String mailFrom, List<String> recipients, byte[] data,
                              boolean eightBit, boolean smtputf8, Dsn dsn) {

    public OutboundMessage {
        recipients = List.copyOf(recipients);
        mailFrom = mailFrom == null ? "" : mailFrom;
    }

    public OutboundMessage(String messageId, String mailFrom, List<String> recipients, byte[] data,
                           boolean eightBit, boolean smtputf8) {
        this(messageId, mailFrom, recipients, data, eightBit, smtputf8, null);
    }

    public OutboundMessage withRecipients(List<String> subset) {
        return new OutboundMessage(messageId, mailFrom, subset, data, eightBit, smtputf8, dsn);
    }
}
