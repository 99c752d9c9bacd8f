package dev.relay.ingress.smtp.server;

import dev.relay.common.kafka.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Finds what the ingress published on the real broker's inbound topic. */
final class InboundRecords {

    private InboundRecords() {
    }

    /** The record keyed {@code id} among the last records of each partition; fails after 15 s. */
    static ConsumerRecord<String, byte[]> find(String bootstrap, String id) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.INBOUND).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            end.forEach((tp, offset) -> consumer.seek(tp, Math.max(0, offset - 50)));
            long deadline = System.currentTimeMillis() + 15000;
            List<String> seen = new ArrayList<>();
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    seen.add(r.key());
                    if (id.equals(r.key())) {
                        return r;
                    }
                }
            }
            throw new AssertionError("record " + id + " not found on " + Topics.INBOUND + "; saw " + seen);
        }
    }
}
