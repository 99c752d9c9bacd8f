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
 * @param trustedNetwork the client was in the trusted networks of the rules in force at acceptance. Together with
 *                      {@code identity} it says whom Relay may send DSNs to (never to senders nobody vouched
 *                      for: no backscatter). Added later: a record without it is from an untrusted client.
 * @param returnRoute   the policy's next hop for the sender's domain (outbound records of a sender DSNs may go
 *                      to), so that the delivery service's DSNs take it: a sender in a local domain gets its DSN
 *                      through the mailbox route (LOCAL), not by MX, which is Relay itself. Null: the sender
 *                      domain's MX. Added later: readers that do not know it ignore it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Envelope(int version, String messageId, long receivedAt, String clientAddress, String clientName,
                       String listener, boolean tls, Identity identity, String mailFrom, List<String> recipients,
                       boolean smtputf8, String body, long size, Route route, int attempts, Dsn dsn,
                       DeliveryHistory history, boolean trustedNetwork, Route returnRoute) {

    public static final int VERSION = 1;

    /** An envelope without a return route (DSNs to the sender go by its domain's MX). */
    public Envelope(int version, String messageId, long receivedAt, String clientAddress, String clientName,
                    String listener, boolean tls, Identity identity, String mailFrom, List<String> recipients,
                    boolean smtputf8, String body, long size, Route route, int attempts, Dsn dsn,
                    DeliveryHistory history, boolean trustedNetwork) {
        this(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity, mailFrom, recipients,
                smtputf8, body, size, route, attempts, dsn, history, trustedNetwork, null);
    }

    /** An envelope from a client outside the trusted networks. */
    public Envelope(int version, String messageId, long receivedAt, String clientAddress, String clientName,
                    String listener, boolean tls, Identity identity, String mailFrom, List<String> recipients,
                    boolean smtputf8, String body, long size, Route route, int attempts, Dsn dsn,
                    DeliveryHistory history) {
        this(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity, mailFrom, recipients,
                smtputf8, body, size, route, attempts, dsn, history, false);
    }

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

    /**
     * Whether a DSN about this message may go to its sender: only when the sender authenticated or sent from a
     * trusted network. Mail received from anyone else (the MX role) carries a sender nobody verified; bouncing to
     * it is backscatter, so its failures are only recorded (events, logs, metrics).
     */
    public boolean vouchedSender() {
        return identity != null || trustedNetwork;
    }

    /** The same envelope, recording whether the client was in the trusted networks. */
    public Envelope withTrustedNetwork(boolean trusted) {
        return new Envelope(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity,
                mailFrom, recipients, smtputf8, body, size, route, attempts, dsn, history, trusted, returnRoute);
    }

    /** The same envelope, with the next hop for DSNs to its sender ({@code null}: the sender domain's MX). */
    public Envelope withReturnRoute(Route back) {
        return new Envelope(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity,
                mailFrom, recipients, smtputf8, body, size, route, attempts, dsn, history, trustedNetwork, back);
    }

    /** The same message, for one next hop and its recipients. */
    public Envelope forHop(Route hop, List<String> hopRecipients) {
        return new Envelope(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity,
                mailFrom, hopRecipients, smtputf8, body, size, hop, attempts, dsn, history, trustedNetwork,
                returnRoute);
    }

    /** The same hop after one more failed attempt: only the recipients still to try, with their history. */
    public Envelope nextAttempt(List<String> deferred, DeliveryHistory next) {
        return new Envelope(version, messageId, receivedAt, clientAddress, clientName, listener, tls, identity,
                mailFrom, deferred, smtputf8, body, size, route, attempts + 1, dsn, next, trustedNetwork,
                returnRoute);
    }
}
