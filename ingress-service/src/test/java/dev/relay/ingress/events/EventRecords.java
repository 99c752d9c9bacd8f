package dev.relay.ingress.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;

/** Reads the events a test's ingress wrote to its own events topic on the real broker. */
final class EventRecords {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One event as written: the record key and the JSON value. */
    record Event(String key, JsonNode value) {
        String text(String field) {
            JsonNode node = value.get(field);
            return node == null || node.isNull() ? null : node.asText();
        }
    }

    private EventRecords() {
    }

    /**
     * Every event of the topic that matches, read from the beginning until {@code done} holds for what was
     * found (then one more poll, so that nothing written just before is missed); fails after 30 s.
     */
    static List<Event> read(String bootstrap, String topic, Predicate<Event> matches, Predicate<List<Event>> done) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<Event> found = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            boolean last = false;
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    Event event = new Event(r.key(), parse(r.value()));
                    if (matches.test(event)) {
                        found.add(event);
                    }
                }
                if (last) {
                    return found;
                }
                last = done.test(found);
            }
            throw new AssertionError("events on " + topic + " not complete in time; found " + found);
        }
    }

    private static JsonNode parse(byte[] value) {
        try {
            return JSON.readTree(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
