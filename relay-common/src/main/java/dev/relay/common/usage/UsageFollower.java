package dev.relay.common.usage;

import dev.relay.common.kafka.WholeTopic;
import dev.relay.common.rules.Count;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Usage;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Follows the compacted usage topic on a dedicated thread (every partition from the beginning, no consumer
 * group, no commits, like the rules follower) and sums the latest count of every policy instance per
 * {@link Slot}. Records of {@code ownInstance} are skipped: the policy instance that writes them knows its own
 * counts exactly ({@link UsageCounter}). Slots whose window ended are forgotten.
 *
 * <p>What it sums lags the writers by the propagation delay (typically well under a second), so limits can be
 * overshot by what other instances routed within that delay.
 */
public final class UsageFollower implements Usage, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(UsageFollower.class.getName());
    private static final Duration PRUNE_EVERY = Duration.ofSeconds(30);

    private record Latest(Slot slot, Count count) {
    }

    private final String topic;
    private final String ownInstance;
    private final Clock clock;
    private final WholeTopic follower;
    private final Map<String, Latest> latest = new ConcurrentHashMap<>();
    private final Map<Slot, Count> totals = new ConcurrentHashMap<>();
    private Instant lastPrune = Instant.EPOCH;

    /**
     * @param kafka       client properties (bootstrap servers, security); group and commit settings are overridden
     * @param ownInstance the instance id whose records to skip, or null to sum all (the ingress)
     */
    public UsageFollower(Map<String, Object> kafka, String topic, String ownInstance, Clock clock) {
        this.topic = topic;
        this.ownInstance = ownInstance;
        this.clock = clock;
        this.follower = new WholeTopic(kafka, topic, "relay-usage-follower", Duration.ofMillis(200),
                "usage topic " + topic + " not there yet; counting from zero", this::apply, this::prune);
    }

    public UsageFollower start() {
        follower.start();
        return this;
    }

    /** Waits until everything in the topic at start was read. @return whether that happened in time */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return follower.awaitCaughtUp(timeout);
    }

    @Override
    public Count used(Slot slot) {
        return totals.getOrDefault(slot, Count.ZERO);
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (record.key() == null || (ownInstance != null && record.key().startsWith(ownInstance + "|"))) {
            return;
        }
        if (record.value() == null) { // tombstone: the writer removed its slot
            Latest old = latest.remove(record.key());
            if (old != null) {
                totals.computeIfPresent(old.slot(), (s, c) -> c.minus(old.count()));
            }
            return;
        }
        UsageRecord usage;
        try {
            usage = UsageRecord.parse(record.value());
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring " + topic + "@" + record.offset() + ": " + e.getMessage());
            return;
        }
        Slot slot = usage.slot();
        if (expired(slot, clock.instant())) {
            return;
        }
        Latest now = new Latest(slot, usage.count());
        Latest old = latest.put(record.key(), now);
        Count delta = old == null ? now.count() : now.count().minus(old.count());
        totals.merge(slot, delta, Count::plus);
    }

    private void prune() {
        Instant now = clock.instant();
        if (now.isBefore(lastPrune.plus(PRUNE_EVERY))) {
            return;
        }
        lastPrune = now;
        latest.values().removeIf(l -> expired(l.slot(), now));
        totals.keySet().removeIf(s -> expired(s, now));
    }

    /** A minute of margin: instances whose clocks differ slightly still agree on the recent buckets. */
    static boolean expired(Slot slot, Instant now) {
        return slot.window().end(slot.bucket()).plus(Duration.ofMinutes(1)).isBefore(now);
    }

    @Override
    public void close() {
        follower.close();
    }
}
