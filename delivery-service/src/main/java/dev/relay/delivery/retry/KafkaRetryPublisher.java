package dev.relay.delivery.retry;

import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.DueTimeConsumer;
import dev.relay.common.kafka.Topics;
import dev.relay.delivery.kafka.KafkaAckedSend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.concurrent.CompletionStage;

/**
 * Hands a transiently failed delivery to its retry tier (channel {@code mail-out}, topic overridden per record):
 * the same key, the same message bytes and headers, the envelope of {@link AttemptPlan.Retry} (only the deferred
 * recipients, attempts + 1, the history) and the due-at header that the retry consumer waits for.
 */
@ApplicationScoped
public class KafkaRetryPublisher {

    @Inject
    @Channel("mail-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> records;

    /** Completes when the broker acknowledged the retry record. */
    public CompletionStage<Void> publish(String key, AttemptPlan.Retry retry, byte[] data, Headers original) {
        RecordHeaders headers = new RecordHeaders(original.toArray());
        headers.remove(Topics.ENVELOPE_HEADER);
        headers.remove(DueTimeConsumer.DUE_AT_HEADER);
        headers.add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(retry.envelope()));
        headers.add(DueTimeConsumer.DUE_AT_HEADER, DueTimeConsumer.dueAtValue(retry.dueAt()));
        return KafkaAckedSend.send(records, retry.topic(), key, data, headers);
    }
}
