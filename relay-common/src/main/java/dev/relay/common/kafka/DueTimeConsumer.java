package dev.relay.common.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CompletionStage;
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
 * after a back-off of five seconds. Partitions taken away by a rebalance commit what is finished and forget the rest,
 * which the new owner consumes again: at least once, never lost.
 *
 * <p>Everything Kafka-related runs on one dedicated thread; handlers run wherever their stages complete.
 */
public final class DueTimeConsumer implements AutoCloseable {

    public static final String DUE_AT_HEADER = "relay-due-at";
    private static final System.Logger LOG = System.getLogger(DueTimeConsumer.class.getName());

    /** Processes one due record; the stage completes when its outcome is durable. */
    @FunctionalInterface
    public interface Handler {
        CompletionStage<Void> handle(ConsumerRecord<byte[], byte[]> record);
    }

    private final String name;
    private final Collection<String> topics;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final DuePartitions partitions;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private volatile boolean fetching = true;
    private volatile long closeDeadline = Long.MAX_VALUE;

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
        Properties props = KafkaClients.settings(consumerConfig);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.putIfAbsent(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "relay-" + name);
        props.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(10, maxInFlight));
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.partitions = new DuePartitions(name, this.topics, handler, maxInFlight, clock, consumer);
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
        return partitions.lagByTopic();
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
            consumer.subscribe(topics, partitions.rebalanceListener());
            while (fetching) {
                try {
                    partitions.pollOnce();
                } catch (WakeupException e) {
                    // close() or a new completion: look at the flags again
                }
            }
            partitions.drain(closeDeadline);
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
}
