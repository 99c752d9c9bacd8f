package dev.relay.ingress.smtp.session;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Dsn;
import dev.relay.ingress.smtp.protocol.EnvelopeParameters;
import dev.relay.ingress.smtp.protocol.MessageBuffer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Transaction scope: everything between MAIL and the end of DATA/BDAT (or RSET). Replaced, never cleared. It owns
 * the message buffer (and with it the memory reserved in the shared budget) until the message is handed to the
 * publisher; {@link #release()} is the one way to give it back when the transaction ends any other way.
 */
final class Transaction {

    final String mailFrom;
    final EnvelopeParameters.Mail params;
    final List<MailAddress> recipients = new ArrayList<>();
    final Map<String, Dsn.Recipient> dsnRecipients = new LinkedHashMap<>();
    String messageId;
    /** The message received so far (DATA, or the BDAT chunks); null until DATA or the first BDAT. */
    MessageBuffer buffer;
    /** Whether BDAT started the message (DATA is then refused, RFC 3030 §3). */
    boolean chunked;

    Transaction(String mailFrom, EnvelopeParameters.Mail params) {
        this.mailFrom = mailFrom;
        this.params = params;
    }

    /** The buffer leaves the transaction (to be published); from now on its release is the publisher's. */
    MessageBuffer takeBuffer() {
        MessageBuffer taken = buffer;
        buffer = null;
        return taken;
    }

    /** Gives back whatever the transaction still holds. Idempotent. */
    void release() {
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }

    Dsn dsn() {
        Dsn dsn = new Dsn(params.ret(), params.envid(), dsnRecipients);
        return dsn.isEmpty() ? null : dsn;
    }
}
