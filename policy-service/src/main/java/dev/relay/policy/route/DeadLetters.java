package dev.relay.policy.route;

import dev.relay.common.kafka.DeadLetter;
import dev.relay.policy.config.PolicyMetrics;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The policy's one place for records it cannot decode, from either topic it reads: each is kept on the DLQ
 * ({@code relay.policy.topics.dlq}) unchanged, with its original headers plus {@value #REASON_HEADER} and
 * {@value #SOURCE_HEADER} ({@code topic-partition@offset}), counted ({@code relay.policy.dlq}) and logged.
 * Producing is retried with back-off rather than given up; the caller commits the source record only when the
 * returned {@link Uni} completed, so a dead letter is never lost either.
 */
@ApplicationScoped
public class DeadLetters {

    private static final Logger LOG = Logger.getLogger(DeadLetters.class);
    /** Why the record could not be used. */
    public static final String REASON_HEADER = DeadLetter.REASON_HEADER;
    /** Where it came from: {@code topic-partition@offset}. */
    public static final String SOURCE_HEADER = DeadLetter.SOURCE_HEADER;

    private final PolicyMetrics metrics;
    private final MutinyEmitter<byte[]> dlq;

    public DeadLetters(PolicyMetrics metrics, @Channel("dlq") MutinyEmitter<byte[]> dlq) {
        this.metrics = metrics;
        this.dlq = dlq;
    }

    /** An inbound record we cannot decode; completes when the DLQ acknowledged it (the caller then acks). */
    public Uni<Void> inbound(IncomingKafkaRecordMetadata<?, ?> meta, byte[] value, String reason) {
        return send("record", meta.getTopic(), meta.getPartition(), meta.getOffset(), meta.getHeaders(),
                meta.getKey(), value, reason);
    }

    /**
     * A held record that cannot be decoded (only the policy writes the held topic: a bug or tampering); completes
     * when the DLQ acknowledged it.
     */
    public Uni<Void> held(ConsumerRecord<byte[], byte[]> record, String reason) {
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        return send("held record", record.topic(), record.partition(), record.offset(), record.headers(), key,
                record.value(), reason);
    }

    private Uni<Void> send(String what, String topic, int partition, long offset, Headers original, Object key,
                           byte[] value, String reason) {
        metrics.dlq();
        LOG.errorf("undecodable %s %s-%d@%d sent to the DLQ: %s", what, topic, partition, offset, reason);
        RecordHeaders headers = DeadLetter.headers(original.toArray(), reason,
                DeadLetter.source(topic, partition, offset));
        return Uni.createFrom().deferred(() -> dlq.sendMessage(Message.of(value).addMetadata(
                        OutgoingKafkaRecordMetadata.builder().withKey(key).withHeaders(headers).build())))
                .onFailure().retry().withBackOff(Duration.ofMillis(500), Duration.ofSeconds(30)).indefinitely();
    }
}
