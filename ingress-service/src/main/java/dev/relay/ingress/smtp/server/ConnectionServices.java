package dev.relay.ingress.smtp.server;

import dev.relay.ingress.auth.AuthResult;
import dev.relay.ingress.auth.CredentialVerifier;
import dev.relay.ingress.auth.sasl.Credentials;
import dev.relay.ingress.events.IngressEvents;
import dev.relay.ingress.events.MessageMdc;
import dev.relay.ingress.metrics.IngressMetrics;
import dev.relay.ingress.publish.KafkaInboundPublisher;
import dev.relay.ingress.smtp.protocol.Printable;
import dev.relay.ingress.smtp.session.Action;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.ingress.smtp.session.SmtpSession;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.util.function.Consumer;

/**
 * What every connection shares, and the two asynchronous actions of a session that go to a back end: the check of
 * the credentials an AUTH exchange produced ({@link CredentialVerifier}: throttle, cache, Keycloak) and the publish
 * of an accepted message to Kafka. Each hands the session's answer to {@code then}; the connection holds its input
 * until then. Also the log line that sums up a session.
 */
record ConnectionServices(Vertx vertx, CredentialVerifier credentials, KafkaInboundPublisher publisher,
                          IngressEvents events, IngressMetrics metrics, ConnectionTimeouts timeouts,
                          int maxPipelinedBytes) {

    /** The connection's logger: the "accepted" and "session" lines keep their category. */
    private static final Logger LOG = Logger.getLogger(SmtpConnection.class);

    void verify(SmtpSession session, String client, Credentials credentials, Consumer<Action> then) {
        Future<AuthResult> verification = credentials instanceof Credentials.Password password
                ? credentials().verifyPassword(client, password.username(), password.password())
                : credentials().verifyToken(client, ((Credentials.Token) credentials).token());
        verification.onComplete(done -> {
            AuthResult result = done.succeeded() ? done.result() : new AuthResult.Unavailable("error");
            metrics.auth(credentials.mechanism(), result.getClass().getSimpleName().toLowerCase());
            then.accept(session.onAuthResult(result));
        });
    }

    /**
     * Publishes the message; once Kafka acknowledged it the client is answered {@code 250} and then the
     * {@code received} event is handed over (best effort, never delaying or failing the reply). Every log line
     * about the message, here and in the publisher, carries its queue id in the MDC.
     */
    void publish(SmtpSession session, Action.Publish publish, ConnectionEvents connection, Consumer<Action> then) {
        String id = publish.envelope().messageId();
        Timer.Sample sample = metrics.startPublish();
        KafkaInboundPublisher.Publication publication = publisher.publish(publish.envelope(), publish.message());
        // the memory goes back when the producer is done with the record, not when the client is answered
        publication.settled().onComplete(done -> session.onSettled(publish));
        publication.acknowledged().onComplete(done -> {
            metrics.publishDone(sample, done.succeeded());
            metrics.message(done.succeeded() ? "accepted" : "temp_failed");
            if (done.succeeded()) {
                MessageMdc.run(id, () -> LOG.infof("accepted %s from=<%s> nrcpt=%d size=%d", id,
                        publish.envelope().mailFrom(), publish.envelope().recipients().size(),
                        publish.message().length));
            }
            then.accept(session.onPublished(publish, done.succeeded()));
            if (done.succeeded()) {
                connection.received(publish.envelope(), publish.message().length);
            }
        });
    }

    /** At the end of a message: anything but a publish is a refusal of its content (counted). */
    Action endOfMessage(Action next) {
        if (!(next instanceof Action.Publish)) {
            metrics.message("rejected");
        }
        return next;
    }

    /** The connection is gone: the gauge, and the one log line per session. */
    void sessionClosed(Listener listener, String client, SmtpSession session, long openedAt) {
        metrics.sessionClosed();
        LOG.infof("session listener=%s client=%s helo=%s tls=%s user=%s queued=%s errors=%d duration=%dms",
                listener.tag(), client, Printable.forLog(session.heloName()), session.tls(),
                session.identity() == null ? "-" : session.identity().username(), session.queuedIds(),
                session.errors(), (System.nanoTime() - openedAt) / 1_000_000);
    }
}
