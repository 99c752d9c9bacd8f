package dev.relay.delivery.messaging;

import dev.relay.common.kafka.DeadLetter;
import dev.relay.delivery.kafka.KafkaAckedSend;
import dev.relay.delivery.metrics.DeliveryMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The delivery's one place for dead letters: moves an undecodable record to relay.dlq.v1 (channel
 * {@code dlq-out}) with its key, value and headers unchanged, plus {@code relay-dlq-reason} and
 * {@code relay-dlq-source} ({@link #source topic-partition@offset}), then counts and logs it. Kept and counted,
 * never silently dropped; when Kafka does not take it the returned stage fails and the record stays
 * uncommitted.
 */
@ApplicationScoped
public class KafkaDlqPublisher {

    private static final Logger LOG = Logger.getLogger(KafkaDlqPublisher.class);

    public static final String REASON_HEADER = DeadLetter.REASON_HEADER;
    public static final String SOURCE_HEADER = DeadLetter.SOURCE_HEADER;

    private static final byte[] NO_VALUE = new byte[0];

    @Inject
    @Channel("dlq-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> dlq;

    @Inject
    DeliveryMetrics metrics;

    /** Where a record came from, as the source header and the log name it: {@code topic-partition@offset}. */
    static String source(String topic, int partition, long offset) {
        return DeadLetter.source(topic, partition, offset);
    }

    /** Completes when Kafka acknowledged the dead letter (then counted); fails when it did not. */
    CompletionStage<Void> publish(OutboundRecordDecoder.Decoded.Undecodable bad) {
        RecordHeaders headers = DeadLetter.headers(bad.headers().toArray(), bad.reason(), bad.source());
        return KafkaAckedSend.send(dlq, bad.key(), bad.value() == null ? NO_VALUE : bad.value(), headers)
                .handle((v, err) -> {
                    if (err != null) {
                        LOG.errorf(err, "could not move undecodable record %s to the dead-letter topic",
                                bad.source());
                        return CompletableFuture.<Void>failedFuture(err);
                    }
                    metrics.deadLettered();
                    LOG.warnf("undecodable record %s (key %s) moved to the dead-letter topic: %s", bad.source(),
                            bad.key(), bad.reason());
                    return CompletableFuture.<Void>completedFuture(null);
                }).thenCompose(done -> done);
    }
}
