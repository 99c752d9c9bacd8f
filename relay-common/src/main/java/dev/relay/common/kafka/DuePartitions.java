package dev.relay.common.kafka;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The poll thread's side of a {@link DueTimeConsumer}: which partition waits for a due time, which is paused for
 * capacity or after a failure, which offsets are in flight or finished, and what may be committed. The ordering
 * and commit contracts are written on {@link DueTimeConsumer}; this class keeps them. Every method but
 * {@link #lagByTopic()} runs on the poll thread; handlers report their completions through a queue.
 */
final class DuePartitions {

    static final Duration FAILURE_BACKOFF = Duration.ofSeconds(5);
    private static final Duration IDLE_POLL = Duration.ofMillis(500);
    private static final Duration BUSY_POLL = Duration.ofMillis(50);
    private static final Duration LAG_REFRESH = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(DueTimeConsumer.class.getName());

    private final String name;
    private final Collection<String> topics;
    private final DueTimeConsumer.Handler handler;
    private final int maxInFlight;
    private final Clock clock;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();

    // Poll-thread state only.
    private final Map<TopicPartition, TreeMap<Long, Boolean>> inFlight = new HashMap<>(); // offset → done
    private final Map<TopicPartition, Long> waitingUntil = new HashMap<>(); // paused until this epoch milli
    private final Set<TopicPartition> failed = new HashSet<>();
    private final Set<TopicPartition> pausedForCapacity = new HashSet<>();
    private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
    private final Map<TopicPartition, Long> rewind = new HashMap<>(); // lowest failed offset per partition
    private int running;
    private long lagRefreshedAt;
    private volatile Map<String, Long> lagByTopic = Map.of();

    DuePartitions(String name, Collection<String> topics, DueTimeConsumer.Handler handler, int maxInFlight,
                  Clock clock, KafkaConsumer<byte[], byte[]> consumer) {
        this.name = name;
        this.topics = topics;
        this.handler = handler;
        this.maxInFlight = maxInFlight;
        this.clock = clock;
        this.consumer = consumer;
    }

    Map<String, Long> lagByTopic() {
        return lagByTopic;
    }

    ConsumerRebalanceListener rebalanceListener() {
        return new Rebalance();
    }

    /** One turn of the poll thread: take finished work, resume due partitions, poll, dispatch, commit. */
    void pollOnce() {
        long now = clock.millis();
        applyCompletions();
        resumeDue(now);
        ConsumerRecords<byte[], byte[]> records = consumer.poll(pollTimeout(now));
        now = clock.millis();
        for (TopicPartition tp : records.partitions()) {
            take(tp, records.records(tp), now);
        }
        applyCompletions();
        commit(false);
        refreshLag(now);
    }

    private void take(TopicPartition tp, List<ConsumerRecord<byte[], byte[]>> batch, long now) {
        for (ConsumerRecord<byte[], byte[]> record : batch) {
            if (waitingUntil.containsKey(tp) || failed.contains(tp) || pausedForCapacity.contains(tp)) {
                return; // rewound below: the rest of the batch is fetched again after resume
            }
            long due = DueTimeConsumer.dueAt(record).orElse(0L);
            if (due > now) {
                hold(tp, record.offset());
                waitingUntil.put(tp, due);
                return;
            }
            if (running >= maxInFlight) {
                hold(tp, record.offset());
                pausedForCapacity.add(tp);
                return;
            }
            dispatch(tp, record);
        }
    }

    private void hold(TopicPartition tp, long offset) {
        consumer.pause(List.of(tp));
        consumer.seek(tp, offset);
    }

    private void dispatch(TopicPartition tp, ConsumerRecord<byte[], byte[]> record) {
        inFlight.computeIfAbsent(tp, k -> new TreeMap<>()).put(record.offset(), false);
        running++;
        CompletionStage<Void> stage;
        try {
            stage = handler.handle(record);
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        // Picked up by the poll thread within BUSY_POLL; no wakeup(), which would interrupt a commit.
        stage.whenComplete((v, err) -> completions.add(new Completion(tp, record.offset(), err)));
    }

    private void applyCompletions() {
        Completion c;
        while ((c = completions.poll()) != null) {
            TreeMap<Long, Boolean> pending = inFlight.get(c.tp());
            if (pending == null || !pending.containsKey(c.offset())) {
                continue; // the partition was revoked meanwhile
            }
            running--;
            if (c.error() != null) {
                LOG.log(System.Logger.Level.WARNING, name + ": handling " + c.tp() + "@" + c.offset()
                        + " failed; it will be consumed again", c.error());
                pending.remove(c.offset());
                failed.add(c.tp());
                consumer.pause(List.of(c.tp()));
                rewindTo(c.tp(), c.offset());
            } else {
                pending.put(c.offset(), true);
            }
            advance(c.tp(), pending);
        }
        if (running < maxInFlight && !pausedForCapacity.isEmpty()) {
            List<TopicPartition> resume = new ArrayList<>(pausedForCapacity);
            pausedForCapacity.clear();
            resume.removeIf(tp -> waitingUntil.containsKey(tp) || failed.contains(tp));
            consumer.resume(resume);
        }
    }

    /** Remembers the lowest failed offset as the place to start again once in-flight work settled. */
    private void rewindTo(TopicPartition tp, long offset) {
        rewind.merge(tp, offset, Math::min);
    }

    /** Moves the commit point over the finished prefix; restarts a failed partition when nothing runs there. */
    private void advance(TopicPartition tp, TreeMap<Long, Boolean> pending) {
        Long committed = null;
        while (!pending.isEmpty() && pending.firstEntry().getValue()) {
            committed = pending.pollFirstEntry().getKey();
        }
        if (committed != null) {
            long next = Math.min(committed + 1, rewind.getOrDefault(tp, Long.MAX_VALUE));
            toCommit.put(tp, new OffsetAndMetadata(next));
        }
        if (failed.contains(tp) && pending.values().stream().noneMatch(done -> !done)) {
            long from = rewind.remove(tp);
            pending.clear(); // finished records after the failed one are handled again: at least once
            consumer.seek(tp, from);
            failed.remove(tp);
            waitingUntil.put(tp, clock.millis() + FAILURE_BACKOFF.toMillis());
        }
    }

    private void resumeDue(long now) {
        List<TopicPartition> due = new ArrayList<>();
        waitingUntil.entrySet().removeIf(e -> {
            if (e.getValue() <= now) {
                due.add(e.getKey());
                return true;
            }
            return false;
        });
        if (!due.isEmpty()) {
            due.removeIf(tp -> failed.contains(tp) || pausedForCapacity.contains(tp));
            consumer.resume(due);
        }
    }

    private Duration pollTimeout(long now) {
        long timeout = running > 0 ? BUSY_POLL.toMillis() : IDLE_POLL.toMillis();
        for (long until : waitingUntil.values()) {
            timeout = Math.min(timeout, Math.max(0, until - now));
        }
        return Duration.ofMillis(timeout);
    }

    private void commit(boolean sync) {
        if (toCommit.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(toCommit);
        toCommit.clear();
        if (sync) {
            consumer.commitSync(offsets, Duration.ofSeconds(10));
        } else {
            consumer.commitAsync(offsets, (done, err) -> {
                if (err != null) {
                    LOG.log(System.Logger.Level.WARNING, name + ": commit failed (records will be consumed "
                            + "again): " + err);
                }
            });
        }
    }

    private void refreshLag(long now) {
        if (now - lagRefreshedAt < LAG_REFRESH.toMillis()) {
            return;
        }
        lagRefreshedAt = now;
        Map<String, Long> lag = new HashMap<>();
        topics.forEach(t -> lag.put(t, 0L));
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong behind = consumer.currentLag(tp);
            TreeMap<Long, Boolean> pending = inFlight.get(tp);
            long open = pending == null ? 0 : pending.size();
            lag.merge(tp.topic(), behind.orElse(0L) + open, Long::sum);
        }
        lagByTopic = Map.copyOf(lag);
    }

    /** After close(): no new records; wait for handlers in flight until the grace deadline, then commit. */
    void drain(long closeDeadline) {
        consumer.pause(consumer.assignment());
        while (running > 0 && System.currentTimeMillis() < closeDeadline) {
            try {
                consumer.poll(BUSY_POLL); // keeps the group membership alive; everything is paused
            } catch (WakeupException e) {
                // ignore: we are closing anyway
            }
            applyCompletions();
        }
        applyCompletions();
        try {
            commit(true);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": final commit failed; records will be consumed again", e);
        }
        if (running > 0) {
            LOG.log(System.Logger.Level.WARNING, name + ": " + running
                    + " record(s) still in flight at close; they stay uncommitted and will be consumed again");
        }
    }

    private void forget(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            TreeMap<Long, Boolean> pending = inFlight.remove(tp);
            if (pending != null) {
                running -= (int) pending.values().stream().filter(done -> !done).count();
            }
            waitingUntil.remove(tp);
            failed.remove(tp);
            pausedForCapacity.remove(tp);
            rewind.remove(tp);
            toCommit.remove(tp);
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            applyCompletions();
            try {
                commit(true);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": commit on revocation failed", e);
            }
            forget(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            // positions come from the committed offsets
        }
    }

    private record Completion(TopicPartition tp, long offset, Throwable error) {
    }
}
