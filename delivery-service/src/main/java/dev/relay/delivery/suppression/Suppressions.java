package dev.relay.delivery.suppression;

import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.common.suppression.SuppressionFollower;
import dev.relay.common.suppression.SuppressionList;
import dev.relay.common.suppression.SuppressionTopic;
import dev.relay.delivery.config.DeliveryConfig;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.delivery.outcome.RecipientResult;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import dev.relay.common.kafka.KafkaClients;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The suppression list as this delivery worker sees it (docs/adr/0015): it follows the whole compacted topic
 * {@code relay.suppression.v1} into a bounded {@link SuppressionList} ({@code relay.delivery.suppression.max-entries}),
 * and answers before each attempt whether a recipient is suppressed ({@link #check}). The entries a hard bounce
 * calls for are written by {@link SuppressionWriter} (the emitter cannot be wired this early at start); once
 * acknowledged they are put into this instance's list at once ({@link #added}), so the next message here is
 * checked against them without waiting for the follower. Expired entries are held until a
 * {@link SuppressionSweeper} on this instance has written their tombstones ({@code sweep-period}, at most
 * {@code sweep-max} per sweep, on its own thread with its own producer, never on an event loop).
 */
@ApplicationScoped
public class Suppressions implements SuppressionCheck {

    private static final Logger LOG = Logger.getLogger(Suppressions.class);

    private final SuppressionPolicy policy;
    private final SuppressionList list;
    private final DeliveryMetrics metrics;
    private final Map<String, Object> kafka;
    private final String topic;
    private final Clock clock = Clock.systemUTC();
    private final Duration sweepPeriod;
    private final int sweepMax;
    private SuppressionFollower follower;
    private KafkaProducer<String, byte[]> tombstones;
    private ScheduledExecutorService sweeps;

    @Inject
    public Suppressions(DeliveryConfig config, DeliveryMetrics metrics,
                        @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        DeliveryConfig.Suppression s = config.suppression();
        this.policy = new SuppressionPolicy(s.codes(), s.ttl());
        this.list = new SuppressionList(s.maxEntries());
        this.metrics = metrics;
        this.kafka = kafka;
        this.topic = s.topic();
        this.sweepPeriod = s.sweepPeriod();
        this.sweepMax = s.sweepMax();
        metrics.suppressionList(list::size, list::evicted);
    }

    /** Early, so that the first records are checked against the stored list (as the rules are read first). */
    void onStart(@Observes @Priority(100) StartupEvent event) throws InterruptedException {
        if (!policy.enabled()) {
            LOG.info("suppression list off (relay.delivery.suppression.ttl=0): every recipient is attempted");
            return;
        }
        SuppressionTopic.ensure(kafka, topic);
        follower = new SuppressionFollower(kafka, topic, list, clock, true).start();
        if (!follower.awaitCaughtUp(Duration.ofSeconds(10))) {
            LOG.warnf("suppression topic %s not read within 10s: checking against what is read so far", topic);
        }
        LOG.infof("suppression list: %d entries from %s, hard bounces with %s suppress for %s, at most %d entries",
                list.size(), topic, policy, policy.ttl(), list.maxEntries());
        tombstones = new KafkaProducer<>(KafkaClients.durableProducer(kafka), new StringSerializer(),
                new ByteArraySerializer());
        SuppressionSweeper sweeper = new SuppressionSweeper(list, this::tombstone, sweepMax, clock);
        sweeps = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "relay-suppression-sweep");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(1, sweepPeriod.toMillis());
        sweeps.scheduleWithFixedDelay(() -> {
            try {
                metrics.suppressionsTombstoned(sweeper.sweep().toCompletableFuture().join());
            } catch (RuntimeException e) {
                LOG.warnf("suppression sweep failed (next one in %s): %s", sweepPeriod, e.toString());
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    /** One tombstone (null value) for the key, acknowledged by every in-sync replica. */
    private CompletionStage<Void> tombstone(String key) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        tombstones.send(new ProducerRecord<>(topic, key, null), (meta, failure) -> {
            if (failure != null) {
                acked.completeExceptionally(failure);
            } else {
                acked.complete(null);
            }
        });
        return acked;
    }

    void onStop(@Observes ShutdownEvent event) {
        if (sweeps != null) {
            sweeps.shutdownNow();
        }
        if (tombstones != null) {
            tombstones.close(Duration.ofSeconds(5));
        }
        if (follower != null) {
            follower.close();
        }
    }

    /** The entry that suppresses this recipient now, if any (never when suppression is off). Lock-free. */
    @Override
    public Optional<SuppressionEntry> check(String recipient) {
        if (!policy.enabled()) {
            return Optional.empty();
        }
        Optional<SuppressionEntry> entry = list.active(recipient, clock.instant());
        entry.ifPresent(e -> metrics.suppressed(1));
        return entry;
    }

    /** The entries these results call for (none when suppression is off). */
    List<SuppressionEntry> entriesFor(List<RecipientResult> results) {
        return policy.entriesFor(results, clock.instant());
    }

    /** An entry this instance wrote and Kafka acknowledged: checked here from now on, without the follower. */
    void added(SuppressionEntry entry) {
        list.put(entry);
        metrics.suppressionsAdded(1);
        LOG.infof("suppressing %s until %s after %s", entry.address(), entry.until(), entry.reason());
    }

    String topic() {
        return topic;
    }

    /** This instance's list (for tests and the gauge). */
    public SuppressionList list() {
        return list;
    }
}
