package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.PeerCertificates;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.outcome.RemoteHost;

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
    private final RemoteHost remote;
    private final SSLSession tls;
    private final Map<String, RecipientResult> decided = new LinkedHashMap<>();
    private final List<String> accepted = new ArrayList<>();
    private boolean mailAccepted;
    private boolean completed;
    private Diagnostic closedBy;
    private boolean dsnOffered;

    /** @param tls the session's TLS, null on plain text: reported with every result (events) */
    OutboundTransaction(OutboundMessage message, RemoteHost remote, SSLSession tls) {
        this.message = message;
        this.remote = remote;
        this.tls = tls;
    }

    /** The server offered DSN (EHLO): NOTIFY went on with the recipients, reported with every result. */
    void dsnOffered(boolean offered) {
        dsnOffered = offered;
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

    /** The server answered 421 during the transaction (at {@code phase}): it is closing the channel. */
    void closed(SmtpReply reply, Phase phase) {
        closedBy = reply.diagnostic(phase);
    }

    Diagnostic closedBy() {
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
            decided.put(recipient, result(recipient, DeliveryStatus.of(reply.code()), reply.diagnostic(Phase.RCPT)));
        }
    }

    /** The final dot was answered: decides every recipient accepted at RCPT. */
    HopOutcome.Decided dataEnd(SmtpReply reply) {
        completed = true;
        return finish(DeliveryStatus.of(reply.code()), reply.diagnostic(Phase.MESSAGE));
    }

    /** Every recipient not yet decided gets {@code status}; then all results in envelope order. */
    HopOutcome.Decided finish(DeliveryStatus status, Diagnostic detail) {
        for (String rcpt : message.recipients()) {
            decided.computeIfAbsent(rcpt, r -> result(r, status, detail));
        }
        List<RecipientResult> results = new ArrayList<>();
        for (String rcpt : message.recipients()) {
            results.add(decided.get(rcpt));
        }
        return new HopOutcome.Decided(results);
    }

    private RecipientResult result(String recipient, DeliveryStatus status, Diagnostic detail) {
        return new RecipientResult(recipient, status, detail, remote, tls == null ? null : tls.getProtocol(),
                tls == null ? null : tls.getCipherSuite(), PeerCertificates.of(tls), null, dsnOffered);
    }
}
