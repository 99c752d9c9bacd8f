package dev.relay.ingress.smtp.server;

import dev.relay.ingress.auth.AuthResult;
import dev.relay.ingress.auth.CredentialVerifier;
import dev.relay.ingress.auth.sasl.Credentials;
import dev.relay.ingress.metrics.IngressMetrics;
import dev.relay.ingress.publish.KafkaInboundPublisher;
import dev.relay.ingress.smtp.session.Action;
import dev.relay.ingress.smtp.session.SmtpSession;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.util.function.Consumer;

/**
 * What every connection shares, and the two asynchronous actions of a session that go to a back end: the check of
 * the credentials an AUTH exchange produced ({@link CredentialVerifier}: throttle, cache, Keycloak) and the publish
 * of an accepted message to Kafka. Each hands the session's answer to {@code then}; the connection holds its input
 * until then.
 */
record ConnectionServices(Vertx vertx, CredentialVerifier credentials, KafkaInboundPublisher publisher,
                          IngressMetrics metrics, ConnectionTimeouts timeouts, int maxPipelinedBytes) {

    /** The connection's logger: the per-message "accepted" line keeps its category. */
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

    void publish(SmtpSession session, Action.Publish publish, Consumer<Action> then) {
        String id = publish.envelope().messageId();
        Timer.Sample sample = metrics.startPublish();
        KafkaInboundPublisher.Publication publication = publisher.publish(publish.envelope(), publish.message());
        // the memory goes back when the producer is done with the record, not when the client is answered
        publication.settled().onComplete(done -> session.onSettled(publish));
        publication.acknowledged().onComplete(done -> {
            metrics.publishDone(sample, done.succeeded());
            metrics.message(done.succeeded() ? "accepted" : "temp_failed");
            if (done.succeeded()) {
                MDC.put("messageId", id);
                try {
                    LOG.infof("accepted %s from=<%s> nrcpt=%d size=%d", id, publish.envelope().mailFrom(),
                            publish.envelope().recipients().size(), publish.message().length);
                } finally {
                    MDC.remove("messageId");
                }
            }
            then.accept(session.onPublished(publish, done.succeeded()));
        });
    }
}
