package dev.relay.common.envelope;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * Everything Relay knows about a message besides its bytes. Travels as JSON in the Kafka record header
 * {@code relay-envelope}; the record value is the message exactly as received (plus our Received: header).
 *
 * @param version       format version, {@link #VERSION}
 * @param messageId     Relay's queue id, also the Kafka key on the inbound topic and the id in every log line
 * @param receivedAt    epoch milliseconds of the 250 reply
 * @param clientAddress the client's IP address as text
 * @param clientName    the EHLO/HELO argument
 * @param listener      relay, submission or submissions
 * @param tls           whether the session was encrypted
 * @param identity      the authenticated user, or null
 * @param mailFrom      the reverse path without angle brackets; "" for the null sender {@code <>}
 * @param recipients    the forward paths (for an outbound record: only this hop's recipients)
 * @param smtputf8      the client asked for SMTPUTF8
 * @param body          7BIT, 8BITMIME or BINARYMIME as declared with MAIL BODY=
 * @param size          size of the message bytes
 * @param route         the next hop (outbound records only)
 * @param attempts      delivery attempts so far (outbound and retry records)
 * @param dsn           RFC 3461 parameters from MAIL and RCPT, null when the client gave none
 * @param history       delivery attempts so far (retry records only): first attempt, last reply per recipient;
 *                      null before the first attempt. Added later: readers that do not know it ignore it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Envelope(int version, String messageId, long receivedAt, String clientAddress, String clientName,
                       String listener, boolean tls, Identity identity, String mailFrom, List<String> recipients,
                       boolean smtputf8, String body, long size, Route route, int attempts, Dsn dsn,
                       DeliveryHistory history) {

    public static final int VERSION = 1;

    /** An envelope without delivery history (every record before its first delivery attempt). */
    public Envelope(int version, String messageId, long receivedAt, String clientAddress, String clientName,
                    String listener, boolean tls, Identity identity, String mailFrom, List<String> recipients,
                    boolean smtputf8, String body, long size, Route route, int attempts, Dsn dsn) {
        this(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity, mailFrom, recipients,
                smtputf8, body, size, route, attempts, dsn, null);
    }

    /** An envelope without DSN parameters. */
    public Envelope(int version, String messageId, long receivedAt, String clientAddress, String clientName,
                    String listener, boolean tls, Identity identity, String mailFrom, List<String> recipients,
                    boolean smtputf8, String body, long size, Route route, int attempts) {
        this(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity, mailFrom, recipients,
                smtputf8, body, size, route, attempts, null, null);
    }

    public Envelope {
        recipients = recipients == null ? List.of() : List.copyOf(recipients);
        mailFrom = mailFrom == null ? "" : mailFrom;
    }

    public boolean nullSender() {
        return mailFrom.isEmpty();
    }

    /** The same message, for one next hop and its recipients. */
    public Envelope forHop(Route hop, List<String> hopRecipients) {
        return new Envelope(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity,
                mailFrom, hopRecipients, smtputf8, body, size, hop, attempts, dsn, history);
    }

    /** The same hop after one more failed attempt: only the recipients still to try, with their history. */
    public Envelope nextAttempt(List<String> deferred, DeliveryHistory next) {
        return new Envelope(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity,
                mailFrom, deferred, smtputf8, body, size, route, attempts + 1, dsn, next);
    }
}
