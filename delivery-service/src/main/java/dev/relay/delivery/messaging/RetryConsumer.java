package dev.relay.delivery.messaging;

import dev.relay.common.kafka.DueTimeConsumer;
import dev.relay.delivery.config.DeliveryConfig;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.delivery.retry.RetryPolicy;
import dev.relay.delivery.retry.WaitingMessages;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The retry loop: one {@link DueTimeConsumer} (group {@code relay.delivery.retry.group-id}) over every tier topic
 * of the schedule. A tier partition whose head record is not due yet is paused, so a waiting message never
 * blocks other partitions, other tiers or the outbound topic (a separate consumer). A due record goes through
 * the same path as a fresh outbound record ({@link RecordDelivery}) and is committed only after its outcome
 * (events, next retry record, DSN) is acknowledged by Kafka; a failure leaves it uncommitted and it is
 * consumed again.
 *
 * <p>At start the tier topics must exist (the broker does not create topics): a missing tier fails the start with
 * its name, instead of failing every deferral later.
 */
@ApplicationScoped
public class RetryConsumer {

    private static final Logger LOG = Logger.getLogger(RetryConsumer.class);

    private final RecordDelivery delivery;
    private final RetryPolicy policy;
    private final DeliveryConfig config;
    private final DeliveryMetrics metrics;
    private final Map<String, Object> kafka;
    private final WaitingMessages waiting;
    private volatile DueTimeConsumer consumer;

    public RetryConsumer(RecordDelivery delivery, RetryPolicy policy, DeliveryConfig config,
                         DeliveryMetrics metrics, WaitingMessages waiting,
                         @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.delivery = delivery;
        this.policy = policy;
        this.config = config;
        this.metrics = metrics;
        this.kafka = kafka;
        this.waiting = waiting;
    }

    void onStart(@Observes StartupEvent event) {
        List<String> tiers = policy.tiers();
        requireTopics(tiers);
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.retry().groupId());
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        props.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.putIfAbsent(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 3_000);
        for (String tier : tiers) {
            metrics.retryBacklog(policy.tierLabel(tier), () -> backlog(tier));
        }
        metrics.retryOldestAge(() -> waiting.oldestAgeSeconds(System.currentTimeMillis()));
        consumer = new DueTimeConsumer("delivery-retry", props, tiers, this::handle, config.concurrency(),
                Clock.systemUTC()).start();
        LOG.infof("retry loop consuming %s as group %s", tiers, config.retry().groupId());
    }

    private CompletionStage<Void> handle(ConsumerRecord<byte[], byte[]> record) {
        try {
            OutboundRecordDecoder.Decoded decoded = OutboundRecordDecoder.decode(record);
            if (decoded instanceof OutboundRecordDecoder.Decoded.Valid valid) {
                waiting.taken(valid.record().key());
            }
            return delivery.process(decoded);
        } catch (RuntimeException e) { // a bug: the record stays uncommitted and is consumed again
            return CompletableFuture.failedFuture(e);
        }
    }

    private long backlog(String tier) {
        DueTimeConsumer c = consumer;
        return c == null ? 0 : c.lagByTopic().getOrDefault(tier, 0L);
    }

    /** Drain: stop fetching, let handlers in flight finish within {@code grace}, commit what finished. */
    public void close(Duration grace) {
        DueTimeConsumer c = consumer;
        consumer = null;
        if (c != null) {
            c.close(grace);
        }
    }

    private void requireTopics(List<String> tiers) {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
        props.keySet().retainAll(AdminClientConfig.configNames());
        try (Admin admin = Admin.create(props)) {
            for (String tier : tiers) {
                try {
                    admin.describeTopics(List.of(tier)).allTopicNames().get(20, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                        throw new IllegalStateException("retry tier topic " + tier + " does not exist; create the"
                                + " tiers of relay.delivery.retry.schedule " + tiers + " (README, \"Topics\")");
                    }
                    LOG.warnf("could not check retry tier %s (%s); starting anyway", tier, e.getCause());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.warnf("could not check the retry tiers within 20 s; starting anyway");
        }
    }
}
