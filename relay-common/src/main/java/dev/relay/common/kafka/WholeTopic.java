package dev.relay.common.kafka;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * For followers that read a whole (compacted) topic without a consumer group — the rules and the rate-limit
 * usage: wait until the topic exists, then take all its partitions from the beginning.
 */
public final class WholeTopic {

    private static final System.Logger LOG = System.getLogger(WholeTopic.class.getName());

    private WholeTopic() {
    }

    /**
     * A consumer for following a whole topic: the service's client properties (bootstrap servers, security) without
     * a group, without commits, from the earliest offset, reading committed records only.
     */
    public static KafkaConsumer<String, byte[]> consumer(Map<String, Object> kafka, String clientId) {
        Properties props = new Properties();
        props.putAll(kafka);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Assigns every partition of {@code topic} to {@code consumer} and seeks to the beginning, retrying every second
     * while the topic does not exist yet (logging {@code whileMissing}) and {@code running} holds.
     *
     * @return the partitions, or an empty list when stopped (or interrupted) before the topic appeared
     */
    public static List<TopicPartition> assignFromBeginning(Consumer<?, ?> consumer, String topic,
                                                           BooleanSupplier running, String whileMissing) {
        while (running.getAsBoolean()) {
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
}
