package dev.relay.delivery.messaging;

import dev.relay.common.kafka.DeadLetter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.concurrent.CompletionStage;

/**
 * Moves an undecodable record to relay.dlq.v1 (channel {@code dlq-out}) with its key, value and headers
 * unchanged, plus {@code relay-dlq-reason} and {@code relay-dlq-source} (topic-partition@offset). Kept and
 * counted, never silently dropped.
 */
@ApplicationScoped
public class KafkaDlqPublisher {

    public static final String REASON_HEADER = DeadLetter.REASON_HEADER;
    public static final String SOURCE_HEADER = DeadLetter.SOURCE_HEADER;

    private static final byte[] NO_VALUE = new byte[0];

    @Inject
    @Channel("dlq-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> dlq;

    CompletionStage<Void> publish(OutboundRecordDecoder.Decoded.Undecodable record) {
        RecordHeaders headers = DeadLetter.headers(record.headers().toArray(), record.reason(), record.source());
        return KafkaAckedSend.send(dlq, record.key(), record.value() == null ? NO_VALUE : record.value(), headers);
    }
}
