package dev.relay.delivery.messaging;

import dev.relay.delivery.kafka.KafkaAckedSend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;

/**
 * Moves an undecodable record to relay.dlq.v1 (channel {@code dlq-out}) with its key, value and headers
 * unchanged, plus {@code relay-dlq-reason} and {@code relay-dlq-source} (topic-partition@offset). Kept and
 * counted, never silently dropped.
 */
@ApplicationScoped
public class KafkaDlqPublisher {

    public static final String REASON_HEADER = "relay-dlq-reason";
    public static final String SOURCE_HEADER = "relay-dlq-source";

    private static final byte[] NO_VALUE = new byte[0];

    @Inject
    @Channel("dlq-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> dlq;

    CompletionStage<Void> publish(OutboundRecordDecoder.Decoded.Undecodable record) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        headers.add(REASON_HEADER, record.reason().getBytes(StandardCharsets.UTF_8));
        headers.add(SOURCE_HEADER, record.source().getBytes(StandardCharsets.UTF_8));
        return KafkaAckedSend.send(dlq, record.key(), record.value() == null ? NO_VALUE : record.value(), headers);
    }
}
