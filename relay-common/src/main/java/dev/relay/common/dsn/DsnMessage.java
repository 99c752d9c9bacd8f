package dev.relay.common.dsn;

import dev.relay.common.envelope.Envelope;

/**
 * A composed delivery status notification, ready to be published like any accepted message.
 *
 * @param envelope   null sender {@code <>}, one recipient (the original sender), a message id derived from the
 *                   original's; no route yet (the caller routes it with {@link Envelope#forHop})
 * @param bytes      the complete message, CRLF line endings
 * @param recipients the original recipients it reports on
 */
public record DsnMessage(Envelope envelope, byte[] bytes, java.util.List<String> recipients) {

    public DsnMessage {
        recipients = java.util.List.copyOf(recipients);
    }
}
