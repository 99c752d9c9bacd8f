package dev.relay.common.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Consumes topics whose records become due at a time carried in the {@value #DUE_AT_HEADER} header (epoch
 * milliseconds, ASCII decimal; a record without it is due at once). Used for delivery retry tiers and for held
 * messages.
 *
 * <p><b>Ordering contract:</b> within one partition, due times must not decrease — give every fixed delay its own
 * topic (a tier). The head record of a partition that is not due yet pauses that partition (nothing behind it can
 * be due earlier), and the partition is resumed when the head is due; other partitions and other topics keep
 * flowing.
 *
 * <p><b>Commit contract:</b> a record's offset is committed only after its handler's stage completed normally and
 * every record before it in the partition did too (the committed offset never passes unfinished work). A failed
 * stage leaves the record uncommitted: the partition is rewound to the first unfinished record and tried again
 * after {@link #FAILURE_BACKOFF}. Partitions taken away by a rebalance commit what is finished and forget the rest,
 * which the new owner consumes again: at least once, never lost.
 *
 * <p>Everything Kafka-related runs on one dedicated thread; handlers run wherever their stages complete.
 */
public final class DueTimeConsumer implements AutoCloseable {

    public static final String DUE_AT_HEADER = "relay-due-at";
    static final Duration FAILURE_BACKOFF = Duration.ofSeconds(5);
    private static final Duration IDLE_POLL = Duration.ofMillis(500);
    private static final Duration BUSY_POLL = Duration.ofMillis(50);
    private static final Duration LAG_REFRESH = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(DueTimeConsumer.class.getName());

    /** Processes one due record; the stage completes when its outcome is durable. */
    @FunctionalInterface
    public interface Handler {
        CompletionStage<Void> handle(ConsumerRecord<byte[], byte[]> record);
    }

    private final String name;
    private final Collection<String> topics;
    private final Handler handler;
    private final int maxInFlight;
    private final Clock clock;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    // Poll-thread state only.
    private final Map<TopicPartition, TreeMap<Long, Boolean>> inFlight = new HashMap<>(); // offset → done
    private final Map<TopicPartition, Long> waitingUntil = new HashMap<>(); // paused until this epoch milli
    private final Set<TopicPartition> failed = new HashSet<>();
    private final Set<TopicPartition> pausedForCapacity = new HashSet<>();
    private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
    private final Map<TopicPartition, Long> rewind = new HashMap<>(); // lowest failed offset per partition
    private int running;
    private long lagRefreshedAt;

    private volatile boolean fetching = true;
    private volatile long closeDeadline = Long.MAX_VALUE;
    private volatile Map<String, Long> lagByTopic = Map.of();

    /**
     * @param consumerConfig the service's Kafka client properties (bootstrap servers, security settings) plus
     *                       {@code group.id}; deserializers, auto commit and offset reset are set here
     */
    public DueTimeConsumer(String name, Map<String, Object> consumerConfig, Collection<String> topics,
                           Handler handler, int maxInFlight, Clock clock) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1");
        }
        if (!consumerConfig.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
            throw new IllegalArgumentException("a consumer group (group.id) is required");
        }
        this.name = name;
        this.topics = List.copyOf(topics);
        this.handler = handler;
        this.maxInFlight = maxInFlight;
        this.clock = clock;
        Properties props = new Properties();
        props.putAll(consumerConfig);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "relay-" + name);
        props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(10, maxInFlight));
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::run, "relay-due-" + name);
        this.thread.setDaemon(true);
    }

    /** The header value for a record due at {@code dueAt}. */
    public static byte[] dueAtValue(Instant dueAt) {
        return Long.toString(dueAt.toEpochMilli()).getBytes(StandardCharsets.US_ASCII);
    }

    /** The due time of a record; empty when it carries no (readable) due-at header, meaning "due now". */
    public static OptionalLong dueAt(ConsumerRecord<?, ?> record) {
        Header header = record.headers().lastHeader(DUE_AT_HEADER);
        if (header == null || header.value() == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(new String(header.value(), StandardCharsets.US_ASCII).trim()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    public DueTimeConsumer start() {
        thread.start();
        return this;
    }

    /** Records waiting in this instance's partitions (not yet handled), per topic; refreshed every few seconds. */
    public Map<String, Long> lagByTopic() {
        return lagByTopic;
    }

    /**
     * Stops fetching, waits up to {@code grace} for handlers in flight, commits what finished, and closes the
     * consumer. Unfinished records stay uncommitted and go to another member of the group.
     */
    public void close(Duration grace) {
        closeDeadline = System.currentTimeMillis() + grace.toMillis();
        fetching = false;
        consumer.wakeup();
        try {
            if (!stopped.await(grace.toMillis() + 10_000, TimeUnit.MILLISECONDS)) {
                LOG.log(System.Logger.Level.WARNING, name + ": consumer thread did not stop in time");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    private void run() {
        try {
            consumer.subscribe(topics, new Rebalance());
            while (fetching) {
                try {
                    loop();
                } catch (WakeupException e) {
                    // close() or a new completion: look at the flags again
                }
            }
            drain();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, name + ": due-time consumer stopped", e);
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": closing the consumer failed", e);
            }
            stopped.countDown();
        }
    }

    private void loop() {
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
            long due = dueAt(record).orElse(0L);
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
    private void drain() {
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
    }

    private record Completion(TopicPartition tp, long offset, Throwable error) {
    }
}
