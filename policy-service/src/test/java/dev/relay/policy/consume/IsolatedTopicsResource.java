package dev.relay.policy.consume;

import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The build-wide real Kafka broker, with topics of this test run's own, so that records other modules' tests
 * left on the shared relay.* topics cannot reach this test's policy service; and the build-wide real Keycloak
 * for the admin API.
 */
public class IsolatedTopicsResource implements QuarkusTestResourceLifecycleManager {

    public static final String PREFIX = "policy-test-" + UUID.randomUUID().toString().substring(0, 8) + ".";
    /** The DKIM key directory of this run. */
    public static final java.nio.file.Path KEYS_DIR = java.nio.file.Path.of("target", PREFIX + "dkim-keys")
            .toAbsolutePath();

    @Override
    public Map<String, String> start() {
        KafkaBroker kafka = KafkaBroker.shared();
        kafka.createCompactedTopic(PREFIX + "rules");
        kafka.createTopics(List.of(PREFIX + "inbound", PREFIX + "outbound", PREFIX + "events", PREFIX + "dlq",
                PREFIX + "held"), 3);
        kafka.createUsageTopic(PREFIX + "usage");
        return Map.ofEntries(Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                Map.entry("relay.rules.topic", PREFIX + "rules"),
                Map.entry("relay.policy.keycloak-url", KeycloakServer.shared().url()),
                Map.entry("relay.policy.topics.inbound", PREFIX + "inbound"),
                Map.entry("relay.policy.topics.outbound", PREFIX + "outbound"),
                Map.entry("relay.policy.topics.events", PREFIX + "events"),
                Map.entry("relay.policy.topics.dlq", PREFIX + "dlq"),
                Map.entry("mp.messaging.incoming.inbound.group.id", PREFIX + "group"),
                // rate limits: this run's usage and held topics; held messages re-checked every second
                Map.entry("relay.limits.usage-topic", PREFIX + "usage"),
                Map.entry("relay.policy.topics.held", PREFIX + "held"),
                Map.entry("relay.policy.limits.held-group", PREFIX + "held-group"),
                Map.entry("relay.policy.limits.recheck", "1s"),
                // DKIM keys of this run (tests write them and call DkimKeys.reload())
                Map.entry("relay.policy.dkim.keys-dir", KEYS_DIR.toString()),
                // the trace's Kafka Streams application of this run: its own group, changelog and state
                Map.entry("quarkus.kafka-streams.application-id", PREFIX + "trace"),
                Map.entry("relay.policy.trace.state-dir", java.nio.file.Path.of("target", PREFIX + "trace-state")
                        .toAbsolutePath().toString()));
    }

    @Override
    public void stop() {
        // the shared broker outlives this test; the topics are unique to this run
    }

    /** Puts one record on this run's inbound topic, as the ingress would: bytes as value, envelope in the header. */
    public static void produceInbound(String bootstrap, String key, byte[] value, byte[] envelope) throws Exception {
        java.util.Properties props = new java.util.Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("acks", "all");
        try (org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> producer =
                     new org.apache.kafka.clients.producer.KafkaProducer<>(props,
                             new org.apache.kafka.common.serialization.StringSerializer(),
                             new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            org.apache.kafka.clients.producer.ProducerRecord<String, byte[]> record =
                    new org.apache.kafka.clients.producer.ProducerRecord<>(PREFIX + "inbound", key, value);
            record.headers().add(dev.relay.common.kafka.Topics.ENVELOPE_HEADER, envelope);
            producer.send(record).get();
        }
    }
}
