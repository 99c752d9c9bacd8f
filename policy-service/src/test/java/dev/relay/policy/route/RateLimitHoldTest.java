package dev.relay.policy.route;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.policy.consume.IsolatedTopicsResource;
import dev.relay.policy.rules.RuleStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A rate limit after acceptance: with 2 messages per minute, 4 messages in → 2 routed at once, 2 held (event,
 * metric), and both released and routed when the next minute starts. Nothing bounced, nothing lost. The
 * policy's clock is moved forward instead of waiting for the minute to end.
 */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
class RateLimitHoldTest {

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    RuleStore store;

    @Inject
    AdjustableClock clock;

    @Inject
    MeterRegistry registry;

    private static final Identity LIMITED = new Identity("limited-app", "s", "app@example.test",
            List.of("smtp-relay", "limited"), List.of(), List.of());

    @Test
    void shouldHoldWhatExceedsTheLimitAndReleaseItWhenTheNextWindowStarts() throws Exception {
        RuleSet before = store.holder().current().rules().ruleSet();
        store.publish(RuleSetCodec.parse("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "rateLimits":[{"name":"two-per-minute","per":"identity","roles":["limited"],
                                "messages":{"minute":2}}]}"""));
        try {
            clock.advanceToSecondOfMinute(5); // 55 s of this window left: the four arrive inside it
            // other tests of this application (DKIM holds) may have released messages before
            double releasedBefore = registry.counter("relay.policy.released").count();
            String run = "L" + UUID.randomUUID().toString().substring(0, 8);
            for (int i = 1; i <= 4; i++) {
                String id = run + "-" + i;
                Envelope inbound = new Envelope(Envelope.VERSION, id, 0, "192.0.2.9", "helo", "submission", true,
                        LIMITED, "app@example.test", List.of("to-" + i + "@remote.example"), false, "7BIT", 3, null, 0);
                IsolatedTopicsResource.produceInbound(bootstrap, id, ("m" + i + "\r\n").getBytes(StandardCharsets.US_ASCII),
                        EnvelopeCodec.encode(inbound));
            }

            List<ConsumerRecord<String, byte[]>> routedFirst = consume("outbound", 2, run, Duration.ofSeconds(30));
            List<ConsumerRecord<String, byte[]>> heldEvents = consumeEvents("\"type\":\"held\"", 2, run);
            assertThat(heldEvents).hasSize(2).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .allSatisfy(e -> assertThat(e).contains("rateLimits[0].messages.minute")
                            .contains("rate limit two-per-minute (2 messages per minute) reached"));
            assertThat(registry.counter("relay.policy.held", "limit", "two-per-minute").count()).isEqualTo(2.0);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(registry.get("relay.policy.held.messages").gauge().value()).isEqualTo(2.0));
            // re-checked every second within the same minute: still held, nothing more routed
            Thread.sleep(3000); // a negative check: give the re-checks time to (wrongly) route
            assertThat(consume("outbound", 2, run, Duration.ofSeconds(2))).hasSize(2);

            clock.advance(Duration.ofSeconds(60)); // the next minute
            List<ConsumerRecord<String, byte[]>> all = consume("outbound", 4, run, Duration.ofSeconds(30));
            assertThat(all).extracting(ConsumerRecord::key).map(k -> k.substring(0, k.indexOf('/')))
                    .containsExactlyInAnyOrder(run + "-1", run + "-2", run + "-3", run + "-4");
            assertThat(all).allSatisfy(r -> assertThat(new String(r.value(), StandardCharsets.US_ASCII))
                    .isEqualTo("m" + r.key().substring(run.length() + 1, run.length() + 2) + "\r\n"));
            assertThat(routedFirst).hasSize(2);
            assertThat(registry.counter("relay.policy.released").count() - releasedBefore).isEqualTo(2.0);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(registry.get("relay.policy.held.messages").gauge().value()).isEqualTo(0.0));
            // nothing bounced or rejected, and exactly one routed event per message
            List<String> events = consumeEvents("", 6, run).stream()
                    .map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
            assertThat(events).noneMatch(e -> e.contains("\"type\":\"bounced\"") || e.contains("\"type\":\"rejected\""));
            assertThat(events.stream().filter(e -> e.contains("\"type\":\"routed\""))).hasSize(4);
        } finally {
            store.publish(before);
        }
    }

    @Test
    void shouldKeepAnUndecodableHeldRecordOnTheDeadLetterTopic() throws Exception {
        String key = "HBAD" + UUID.randomUUID();
        try (org.apache.kafka.clients.producer.KafkaProducer<String, byte[]> producer =
                     new org.apache.kafka.clients.producer.KafkaProducer<>(java.util.Map.of("bootstrap.servers",
                             bootstrap, "acks", "all"), new org.apache.kafka.common.serialization.StringSerializer(),
                             new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            var record = new org.apache.kafka.clients.producer.ProducerRecord<String, byte[]>(
                    IsolatedTopicsResource.PREFIX + "held", key, "junk".getBytes(StandardCharsets.US_ASCII));
            record.headers().add(dev.relay.common.kafka.Topics.ENVELOPE_HEADER,
                    "{not json".getBytes(StandardCharsets.US_ASCII));
            producer.send(record).get();
        }
        List<ConsumerRecord<String, byte[]>> dlq = consume("dlq", 1, key, Duration.ofSeconds(30));
        assertThat(dlq).hasSize(1);
        assertThat(dlq.get(0).value()).isEqualTo("junk".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(dlq.get(0).headers().lastHeader("relay-dlq-source").value(), StandardCharsets.UTF_8))
                .startsWith(IsolatedTopicsResource.PREFIX + "held-");
    }

    private List<ConsumerRecord<String, byte[]>> consumeEvents(String containing, int count, String run) {
        return consume("events", count, run, Duration.ofSeconds(30), containing);
    }

    private List<ConsumerRecord<String, byte[]>> consume(String topic, int count, String run, Duration wait) {
        return consume(topic, count, run, wait, "");
    }

    /**
     * Reads the topic from the start for {@code wait}, or until {@code count} records of this run whose value
     * contains {@code containing} are seen.
     */
    private List<ConsumerRecord<String, byte[]>> consume(String topic, int count, String run, Duration wait,
                                                         String containing) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(IsolatedTopicsResource.PREFIX + topic));
            long deadline = System.currentTimeMillis() + wait.toMillis();
            while (found.size() < count && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> {
                    if (r.key() != null && r.key().startsWith(run)
                            && new String(r.value(), StandardCharsets.UTF_8).contains(containing)) {
                        found.add(r);
                    }
                });
            }
            // a little longer, so that a record too many would be seen too
            consumer.poll(Duration.ofMillis(500)).forEach(r -> {
                if (r.key() != null && r.key().startsWith(run)
                            && new String(r.value(), StandardCharsets.UTF_8).contains(containing)) {
                    found.add(r);
                }
            });
        }
        return found;
    }
}
