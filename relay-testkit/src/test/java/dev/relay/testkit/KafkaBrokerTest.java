package dev.relay.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

class KafkaBrokerTest {

    @Test
    void sharedBrokerServesTheRelayTopics() throws Exception {
        KafkaBroker broker = KafkaBroker.shared();
        assertTrue(broker.isRunning());
        assertEquals("127.0.0.1:" + Integer.getInteger("relay.test.kafka.port", 19092), broker.bootstrapServers());
        assertTrue(KafkaBroker.shared() == broker, "shared() is one instance per JVM");

        KafkaBroker.createRelayTopics(broker.bootstrapServers());
        KafkaBroker.createRelayTopics(broker.bootstrapServers()); // idempotent

        try (Admin admin = KafkaBroker.admin(broker.bootstrapServers())) {
            Map<String, TopicDescription> topics = admin.describeTopics(List.of("relay.inbound.v1", "relay.rules.v1"))
                    .allTopicNames().get(30, TimeUnit.SECONDS);
            assertEquals(3, topics.get("relay.inbound.v1").partitions().size());
            assertEquals(1, topics.get("relay.rules.v1").partitions().size());
            var rules = new ConfigResource(ConfigResource.Type.TOPIC, "relay.rules.v1");
            var config = admin.describeConfigs(List.of(rules)).all().get(30, TimeUnit.SECONDS).get(rules);
            assertEquals("compact", config.get("cleanup.policy").value());
            assertEquals("16777216", config.get("max.message.bytes").value());
            assertTrue(admin.listTopics().names().get(30, TimeUnit.SECONDS).containsAll(Set.of("relay.outbound.v1",
                    "relay.retry.v1.1m", "relay.retry.v1.8h", "relay.retry.v1.1s", "relay.retry.v1.2s",
                    "relay.events.v1", "relay.dlq.v1")));
        }

        String topic = "testkit." + UUID.randomUUID();
        broker.createTopics(List.of(topic), 1);
        broker.createTopics(List.of(topic), 1); // idempotent
        byte[] body = "8-bit: \u00e9\u00e8\u00fc\r\n".getBytes(StandardCharsets.UTF_8);

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (var producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            RecordMetadata meta = producer.send(new ProducerRecord<>(topic, "key-1", body)).get(30, TimeUnit.SECONDS);
            assertEquals(0, meta.offset());
        }

        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "testkit-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (var consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, byte[]>> received = new ArrayList<>();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(500)).forEach(received::add);
                return !received.isEmpty();
            });
            assertEquals("key-1", received.get(0).key());
            assertEquals(new String(body, StandardCharsets.UTF_8),
                    new String(received.get(0).value(), StandardCharsets.UTF_8));
        }
    }
}
