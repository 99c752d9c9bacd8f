package dev.relay.common.suppression;

import dev.relay.common.kafka.WholeTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Follows the whole compacted suppression topic ({@link WholeTopic}: every partition from the beginning, no
 * consumer group) into a {@link SuppressionList}: a value adds or replaces its address, a tombstone removes it,
 * expired entries are skipped and pruned (or, for the
 * instance that tombstones them, held until it has). Used by every delivery worker (to check before an attempt) and every
 * policy instance (for the admin API). A record that does not decode is logged and skipped: a bad record must not
 * stop the follower.
 */
public final class SuppressionFollower implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SuppressionFollower.class.getName());
    private static final Duration PRUNE_EVERY = Duration.ofSeconds(30);

    private final SuppressionList list;
    private final Clock clock;
    private final String topic;
    private final WholeTopic follower;
    private final boolean keepExpired;
    private Instant lastPrune = Instant.EPOCH;

    /** @param kafka client properties (bootstrap servers, security); group and commit settings are overridden */
    public SuppressionFollower(Map<String, Object> kafka, String topic, SuppressionList list, Clock clock) {
        this(kafka, topic, list, clock, false);
    }

    /**
     * @param keepExpired true: expired entries read are held (never pruned here) until the caller removes them,
     *                    so that it can write their tombstones ({@link SuppressionList#expired},
     *                    {@link SuppressionList#removeIfSame}); they never suppress ({@link SuppressionList#active})
     */
    public SuppressionFollower(Map<String, Object> kafka, String topic, SuppressionList list, Clock clock,
                               boolean keepExpired) {
        this.keepExpired = keepExpired;
        this.list = list;
        this.clock = clock;
        this.topic = topic;
        this.follower = new WholeTopic(kafka, topic, "relay-suppression-follower", Duration.ofMillis(200),
                "suppression topic " + topic + " not there yet; nothing is suppressed", this::apply, this::prune);
    }

    public SuppressionFollower start() {
        follower.start();
        return this;
    }

    /** Waits until everything in the topic at start was read. @return whether that happened in time */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return follower.awaitCaughtUp(timeout);
    }

    void apply(ConsumerRecord<String, byte[]> record) {
        apply(record.key(), record.value(), topic + "@" + record.partition() + ":" + record.offset());
    }

    /** One record: key and value (null = tombstone). Package-visible for tests without Kafka. */
    void apply(String key, byte[] value, String where) {
        if (key == null) {
            LOG.log(System.Logger.Level.WARNING, "ignoring " + where + ": no key");
            return;
        }
        try {
            if (value == null) {
                list.remove(key);
                return;
            }
            SuppressionEntry entry = SuppressionCodec.decode(value);
            if (!entry.address().equals(SuppressionEntry.key(key))) {
                LOG.log(System.Logger.Level.WARNING, "ignoring " + where + ": key and address differ");
                return;
            }
            if (keepExpired || entry.activeAt(clock.instant())) {
                list.put(entry);
            } else {
                list.remove(key);
            }
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring " + where + ": " + e.getMessage());
        }
    }

    private void prune() {
        if (keepExpired) {
            return;
        }
        Instant now = clock.instant();
        if (now.isBefore(lastPrune.plus(PRUNE_EVERY))) {
            return;
        }
        lastPrune = now;
        list.prune(now);
    }

    @Override
    public void close() {
        follower.close();
    }
}
