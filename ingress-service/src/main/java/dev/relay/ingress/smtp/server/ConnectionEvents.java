package dev.relay.ingress.smtp.server;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Identity;
import dev.relay.common.event.RelayEvent;
import dev.relay.ingress.events.IngressEvents;
import dev.relay.ingress.smtp.protocol.Reply;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.ingress.smtp.session.QueueIds;
import dev.relay.ingress.smtp.session.SessionEvents;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The events of one SMTP connection: {@code received} for each accepted message (after its {@code 250}) and
 * {@code rejected} for what the dialogue refused, each with the submission's details (identity, client, listener,
 * TLS protocol). Refusals are bounded per session: the first {@code maxRefusals} are reported one by one, the
 * rest are counted and reported as one summary event when the connection closes, so that a client sending
 * thousands of refused RCPTs writes at most {@code maxRefusals + 1} events.
 *
 * <p>Ids: a refusal inside a transaction carries the transaction's queue id (given at MAIL, the id of the
 * {@code 250} if the message is accepted), so the trace of an accepted message shows the recipients refused on its
 * way in. A refused MAIL has no transaction: it and the summary carry the session's own id (same format, never
 * used for a message), drawn when first needed. Only ever used on the connection's event loop.
 */
final class ConnectionEvents implements SessionEvents {

    private final Consumer<RelayEvent> sink;
    private final Listener listener;
    private final String client;
    private final Supplier<String> tlsProtocol;
    private final int maxRefusals;
    private int reported;
    private int unreported;
    private String sessionId;
    private String lastSender;
    private Identity lastIdentity;

    /**
     * @param sink        where events go ({@link IngressEvents#emit}: never blocks)
     * @param tlsProtocol the session's TLS protocol now, null when plain text
     */
    ConnectionEvents(Consumer<RelayEvent> sink, Listener listener, String client, Supplier<String> tlsProtocol,
                     int maxRefusals) {
        this.sink = sink;
        this.listener = listener;
        this.client = client;
        this.tlsProtocol = tlsProtocol;
        this.maxRefusals = Math.max(0, maxRefusals);
    }

    @Override
    public void refused(String queueId, String sender, List<String> recipients, Reply reply, String rule,
                        Identity identity) {
        lastSender = sender;
        lastIdentity = identity;
        if (reported >= maxRefusals) {
            unreported++;
            return;
        }
        reported++;
        String text = reply.toString();
        sink.accept(RelayEvent.of("rejected", queueId != null ? queueId : sessionId(), IngressEvents.SERVICE,
                        recipients, rule == null ? text : rule + ": " + text, null)
                .withSubmission(sender, submission(identity, null, null)));
    }

    /** The message was acknowledged by Kafka and the client answered {@code 250}. */
    void received(Envelope envelope, long size) {
        sink.accept(RelayEvent.of("received", envelope.messageId(), IngressEvents.SERVICE, envelope.recipients(),
                        null, null)
                .withSubmission(envelope.mailFrom(), submission(envelope.identity(), size,
                        envelope.recipients().size())));
    }

    /** The connection is gone: the summary of the refusals beyond the bound, if any. */
    void closed() {
        if (unreported == 0) {
            return;
        }
        sink.accept(RelayEvent.of("rejected", sessionId(), IngressEvents.SERVICE, List.of(),
                        unreported + " more refusal(s) in this session not reported one by one (at most "
                                + maxRefusals + " per session)", null)
                .withSubmission(lastSender, submission(lastIdentity, null, null)));
        unreported = 0;
    }

    private RelayEvent.Submission submission(Identity identity, Long size, Integer recipientCount) {
        return new RelayEvent.Submission(name(identity), client, listener.tag(), size, recipientCount,
                tlsProtocol.get());
    }

    /** The identity as the trace names it: the application's client id, or the person's username. */
    static String name(Identity identity) {
        if (identity == null) {
            return null;
        }
        return identity.isApplication() ? identity.client() : identity.username();
    }

    private String sessionId() {
        if (sessionId == null) {
            sessionId = QueueIds.next();
        }
        return sessionId;
    }
}
