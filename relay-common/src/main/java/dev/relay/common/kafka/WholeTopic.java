package dev.relay.common.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Follows a whole (compacted) topic on a thread of its own, for the rules and the rate-limit usage: no consumer
 * group and no commits; it waits until the topic exists, takes all its partitions from the beginning, and hands
 * every record to {@code onRecord}, in partition order, until closed. It knows when it has read everything that
 * was in the topic at start ({@link #awaitCaughtUp}).
 */
public final class WholeTopic implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(WholeTopic.class.getName());

    private final String topic;
    private final String name;
    private final Duration pollTimeout;
    private final String whileMissing;
    private final Consumer<ConsumerRecord<String, byte[]>> onRecord;
    private final Runnable afterPoll;
    private final KafkaConsumer<String, byte[]> consumer;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param kafka        the service's client properties (bootstrap servers, security); group, commit and offset
     *                     settings are overridden, and only committed records are read
     * @param name         of the thread; with the topic, the client id
     * @param pollTimeout  how long one poll waits for records; {@code afterPoll} runs at least this often
     * @param whileMissing logged every second while the topic does not exist yet
     */
    public WholeTopic(Map<String, Object> kafka, String topic, String name, Duration pollTimeout, String whileMissing,
                      Consumer<ConsumerRecord<String, byte[]>> onRecord, Runnable afterPoll) {
        this.topic = topic;
        this.name = name;
        this.pollTimeout = pollTimeout;
        this.whileMissing = whileMissing;
        this.onRecord = onRecord;
        this.afterPoll = afterPoll;
        Properties props = KafkaClients.settings(kafka);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, name + "-" + topic);
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    public WholeTopic start() {
        thread.start();
        return this;
    }

    /** Waits until everything in the topic at start was read. @return whether that happened in time */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run() {
        try {
            List<TopicPartition> partitions = assignFromBeginning();
            if (partitions.isEmpty()) {
                return;
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(pollTimeout)) {
                    onRecord.accept(record);
                }
                if (caughtUp.getCount() > 0 && end.entrySet().stream()
                        .allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp.countDown();
                }
                afterPoll.run();
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, name + " for " + topic + " stopped", e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /**
     * Assigns every partition of the topic and seeks to the beginning, retrying every second while the topic does
     * not exist yet and the follower runs.
     *
     * @return the partitions, or an empty list when closed (or interrupted) before the topic appeared
     */
    private List<TopicPartition> assignFromBeginning() {
        while (running) {
            List<PartitionInfo> infos;
            try {
                infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                infos = List.of();
            }
            if (infos != null && !infos.isEmpty()) {
                List<TopicPartition> partitions = infos.stream()
                        .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                return partitions;
            }
            LOG.log(System.Logger.Level.WARNING, whileMissing);
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return List.of();
            }
        }
        return List.of();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
