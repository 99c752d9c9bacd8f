package dev.relay.delivery.retry;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.Topics;
import dev.relay.delivery.messaging.KafkaAckedSend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Hands a transiently failed delivery to relay.retry.v1 (channel {@code retry-out}): the same key, the same
 * message bytes and headers, and an envelope with {@code attempts + 1} whose recipients are only the deferred
 * ones (recipients that were delivered or bounced must not be tried again).
 *
 * <p>TODO(later issue): the retry loop that consumes relay.retry.v1 on the schedule
 * {@code relay.delivery.retry.schedule} and bounces after {@code relay.delivery.retry.max-age}.
 */
@ApplicationScoped
public class KafkaRetryPublisher {

    @Inject
    @Channel("retry-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> retry;

    /** Completes when the broker acknowledged the retry record. */
    public CompletionStage<Void> publish(String key, Envelope envelope, List<String> deferred, byte[] data,
                                         Headers original) {
        Envelope next = nextAttempt(envelope, deferred);
        RecordHeaders headers = new RecordHeaders(original.toArray());
        headers.remove(Topics.ENVELOPE_HEADER);
        headers.add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(next));
        return KafkaAckedSend.send(retry, key, data, headers);
    }

    static Envelope nextAttempt(Envelope e, List<String> deferred) {
        return new Envelope(e.version(), e.messageId(), e.receivedAt(), e.clientAddress(), e.clientName(),
                e.listener(), e.tls(), e.identity(), e.mailFrom(), deferred, e.smtputf8(), e.body(), e.size(),
                e.route(), e.attempts() + 1, e.dsn());
    }
}
