package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Identity;
import dev.relay.common.net.ClientKey;
import dev.relay.common.rules.RelayRules;
import dev.relay.ingress.smtp.protocol.MemoryAccount;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

import java.util.ArrayList;
import java.util.List;

/**
 * What one SMTP session knows, shared by the parts that answer its commands: {@link SmtpSession} (dispatch, greeting,
 * TLS, AUTH), {@link CommandGate}, {@link EnvelopeCommands} (MAIL, RCPT) and {@link MessageIntake} (DATA, BDAT, the
 * publish). It holds the one transaction-reset path and the error count, so that every part ends a transaction and
 * counts a refusal the same way.
 */
final class SessionState {

    enum State { CONNECTED, READY, AUTH, AUTH_CHECKING, DATA, CHUNK, PUBLISHING, CLOSED }

    final SessionSettings settings;
    final Listener listener;
    final String clientAddress;
    /** This client's share of the process-wide memory budget (its address, or its IPv6 /64). */
    final MemoryAccount memory;
    /** Where refusals are reported (the events topic, through the connection). */
    final SessionEvents events;
    final List<String> queuedIds = new ArrayList<>();
    State state = State.CONNECTED;
    boolean tls;
    String heloName;
    Identity identity;
    long identityValidUntil;
    Transaction transaction;
    int errors;

    SessionState(SessionSettings settings, Listener listener, String clientAddress, SessionEvents events) {
        this.settings = settings;
        this.events = events;
        this.listener = listener;
        this.clientAddress = clientAddress;
        this.memory = settings.memory().forClient(ClientKey.of(clientAddress));
        this.tls = listener.implicitTls();
    }

    /**
     * The one transaction-reset path: ends the transaction, if any, and gives back everything it holds (the DATA
     * buffer or the BDAT chunks and their memory). Every way out of a transaction other than a publish uses it.
     */
    void resetTransaction() {
        if (transaction != null) {
            transaction.release();
            transaction = null;
        }
    }

    /**
     * Reports a refusal of the dialogue (sender, recipient, message) with the open transaction's queue id, if any.
     *
     * @param sender     the sender as given, or null to take the open transaction's
     * @param recipients the refused recipient(s), or null for the open transaction's
     */
    void refused(Reply reply, String rule, String sender, List<String> recipients) {
        refused(transaction, reply, rule, sender, recipients);
    }

    /** The same for a transaction that has already left the session (its message was refused after the fact). */
    void refused(Transaction open, Reply reply, String rule, String sender, List<String> recipients) {
        events.refused(open == null ? null : open.messageId, sender != null ? sender : open == null ? null
                        : open.mailFrom, recipients != null ? recipients : open == null ? List.of()
                        : open.recipients.stream().map(Object::toString).toList(), reply, rule, identity);
    }

    Action send(Reply reply) {
        return new Action.Send(reply);
    }

    /** A refused command: counts towards the error limit, after which the session is closed with 421. */
    Action error(Reply reply) {
        if (++errors >= settings.maxErrors()) {
            return close(Replies.TOO_MANY_ERRORS);
        }
        return new Action.Send(reply);
    }

    /** The session ends: the transaction is reset, the reply sent, the connection closed. */
    Action close(Reply reply) {
        resetTransaction();
        state = State.CLOSED;
        return new Action.SendAndClose(reply);
    }

    /** The rules may set lower limits per role or group; the configured limits are the hard ceilings. */
    long maxMessageSize() {
        return Math.min(settings.maxMessageSize(), settings.rules().maxMessageSize(identity)
                .map(RelayRules.Limit::value).orElse(Long.MAX_VALUE));
    }

    int maxRecipients() {
        return (int) Math.min(settings.maxRecipients(), settings.rules().maxRecipients(identity)
                .map(RelayRules.Limit::value).orElse(Long.MAX_VALUE));
    }

    /** The protocol named in the Received: header (RFC 3848). */
    String protocol() {
        return "ESMTP" + (tls ? "S" : "") + (identity != null ? "A" : "");
    }
}
