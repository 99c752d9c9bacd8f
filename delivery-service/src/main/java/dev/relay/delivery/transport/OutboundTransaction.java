package dev.relay.delivery.transport;

import javax.net.ssl.SSLSession;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Transaction scope of one outbound session: what has been decided so far, per recipient. Lets an I/O failure in the
 * middle of the transaction keep the answers the server already gave.
 */
final class OutboundTransaction {

    private final OutboundMessage message;
    private final String remote;
    private final SSLSession tls;
    private final Map<String, RecipientResult> decided = new LinkedHashMap<>();
    private final List<String> accepted = new ArrayList<>();
    private boolean mailAccepted;
    private boolean completed;
    private SmtpReply closedBy;

    /** @param tls the session's TLS, null on plain text: reported with every result (events) */
    OutboundTransaction(OutboundMessage message, String remote, SSLSession tls) {
        this.message = message;
        this.remote = remote;
        this.tls = tls;
    }

    OutboundMessage message() {
        return message;
    }

    boolean mailAccepted() {
        return mailAccepted;
    }

    void mailAccepted(boolean value) {
        mailAccepted = value;
    }

    /** The reply to the final dot was read: the server is back in its initial state (no RSET needed). */
    boolean completed() {
        return completed;
    }

    /** The server answered 421 during the transaction: it is closing the channel. */
    void closed(SmtpReply reply) {
        closedBy = reply;
    }

    SmtpReply closedBy() {
        return closedBy;
    }

    /** Recipients the server accepted at RCPT and that still wait for the answer to DATA. */
    List<String> accepted() {
        return List.copyOf(accepted);
    }

    void rcptReply(String recipient, SmtpReply reply) {
        if (reply.isPositive()) {
            accepted.add(recipient);
        } else {
            decide(recipient, DeliveryStatus.of(reply), reply.text());
        }
    }

    void decide(String recipient, DeliveryStatus status, String detail) {
        decided.put(recipient, result(recipient, status, detail));
    }

    /** The final dot was answered: decides every recipient accepted at RCPT. */
    HopOutcome.Decided dataEnd(SmtpReply reply) {
        completed = true;
        return finish(DeliveryStatus.of(reply), reply.text());
    }

    /** Every recipient not yet decided gets {@code status}; then all results in envelope order. */
    HopOutcome.Decided finish(DeliveryStatus status, String detail) {
        for (String rcpt : message.recipients()) {
            decided.computeIfAbsent(rcpt, r -> result(r, status, detail));
        }
        List<RecipientResult> results = new ArrayList<>();
        for (String rcpt : message.recipients()) {
            results.add(decided.get(rcpt));
        }
        return new HopOutcome.Decided(results);
    }

    private RecipientResult result(String recipient, DeliveryStatus status, String detail) {
        return new RecipientResult(recipient, status, detail, remote, tls == null ? null : tls.getProtocol(),
                tls == null ? null : tls.getCipherSuite());
    }
}
