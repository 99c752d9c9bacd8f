package dev.relay.policy.consume;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.DueTimeConsumer;
import dev.relay.common.kafka.Topics;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.config.PolicyMetrics;
import dev.relay.policy.route.DeadLetters;
import dev.relay.policy.route.Dispatcher;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Consumes the held topic (one consumer group shared by all policy instances) with the {@link DueTimeConsumer}:
 * each held message, once due, is decided again ({@link Dispatcher#handle}) — routed and counted if the
 * window now admits it, else parked again with a new due time; one it cannot decode goes to {@link DeadLetters}.
 * Its offset is committed only after that outcome was acknowledged, so a held message is never lost and never
 * bounced by the limit.
 */
@ApplicationScoped
public class HeldReleaser {

    private final Dispatcher dispatcher;
    private final DeadLetters deadLetters;
    private final PolicyConfig config;
    private final PolicyMetrics metrics;
    private final Clock clock;
    private final Map<String, Object> kafka;
    private DueTimeConsumer consumer;
    private HeldBacklog backlog;

    public HeldReleaser(Dispatcher dispatcher, DeadLetters deadLetters, PolicyConfig config, PolicyMetrics metrics,
                        Clock clock, @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.dispatcher = dispatcher;
        this.deadLetters = deadLetters;
        this.config = config;
        this.metrics = metrics;
        this.clock = clock;
        this.kafka = kafka;
    }

    void onStart(@Observes StartupEvent event) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.limits().heldGroup());
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "3000");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "17825792");
        String topic = config.topics().held();
        // one at a time: held messages of one partition are released in the order they were held
        consumer = new DueTimeConsumer("policy-held", props, List.of(topic), this::release, 1, clock).start();
        backlog = new HeldBacklog(kafka, topic, config.limits().heldGroup()).start();
        metrics.heldBacklog(backlog::value);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (consumer != null) {
            consumer.close(Duration.ofSeconds(10));
        }
        if (backlog != null) {
            backlog.close();
        }
    }

    private CompletionStage<Void> release(ConsumerRecord<byte[], byte[]> record) {
        Header header = record.headers().lastHeader(Topics.ENVELOPE_HEADER);
        Envelope envelope;
        try {
            envelope = EnvelopeCodec.decode(header == null ? null : header.value());
        } catch (IllegalArgumentException e) {
            return deadLetters.held(record, e.getMessage()).subscribeAsCompletionStage();
        }
        return dispatcher.handle(envelope, record.value(), true).subscribeAsCompletionStage();
    }
}
