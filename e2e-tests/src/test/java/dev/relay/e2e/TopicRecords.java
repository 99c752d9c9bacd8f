package dev.relay.e2e;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Reads what a test added to a Kafka topic: take {@link #endOffsets} before, then {@link #since} after. Each record
 * is reduced to its key and the {@code relay-envelope} header (JSON), which is what relay decisions are made of.
 */
final class TopicRecords {

    /** One record: its key and its envelope JSON ("" when it has none). */
    record Entry(String topic, int partition, long offset, String key, String envelope) {
        @Override
        public String toString() {
            return topic + "-" + partition + "@" + offset + " key=" + key + " envelope=" + envelope;
        }
    }

    private TopicRecords() {
    }

    static Map<TopicPartition, Long> endOffsets(String bootstrap, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap)) {
            return consumer.endOffsets(partitions(consumer, topic));
        }
    }

    /** Every record of {@code topic} from {@code start} (per partition) up to the current end. */
    static List<Entry> since(String bootstrap, String topic, Map<TopicPartition, Long> start) {
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap)) {
            List<TopicPartition> partitions = partitions(consumer, topic);
            consumer.assign(partitions);
            for (TopicPartition tp : partitions) {
                consumer.seek(tp, start.getOrDefault(tp, 0L));
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<Entry> entries = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " up to " + end);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    Header header = r.headers().lastHeader("relay-envelope");
                    entries.add(new Entry(r.topic(), r.partition(), r.offset(), r.key(),
                            header == null ? "" : new String(header.value(), StandardCharsets.UTF_8)));
                }
            }
            return entries;
        }
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        return consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    }

    private static KafkaConsumer<String, byte[]> consumer(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }
}
