package dev.relay.policy.consume;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Identity;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.policy.rules.RuleStore;
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

/** The policy service consuming and producing on the real Kafka broker. */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
class InboundConsumerTest {

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    RuleStore store;

    private static final Identity DEMO = new Identity("demo", "s", "demo@example.test", List.of("smtp-relay"),
            List.of(), List.of());

    @Test
    void shouldRouteAllowedRecipientsAndReportRefusedOnes() throws Exception {
        String id = "T" + UUID.randomUUID();
        byte[] body = "Subject: x\r\n\r\n\u00e9\r\n".getBytes(StandardCharsets.UTF_8);
        Envelope inbound = new Envelope(Envelope.VERSION, id, 0, "192.0.2.9", "helo", "relay", false, null,
                "someone@outside.example", List.of("postmaster@example.test", "victim@remote.example"), false,
                "8BITMIME", body.length, null, 0);
        produce(id, body, EnvelopeCodec.encode(inbound));

        List<ConsumerRecord<String, byte[]>> outbound = consume("outbound", 1, id);
        Envelope out = EnvelopeCodec.decode(outbound.get(0).headers().lastHeader(Topics.ENVELOPE_HEADER).value());
        assertThat(out.recipients()).containsExactly("postmaster@example.test");
        assertThat(out.route()).as("a local domain goes to the mailbox route, never its MX (Relay itself)")
                .isEqualTo(Route.local("example.test"));
        assertThat(outbound.get(0).value()).isEqualTo(body);

        List<ConsumerRecord<String, byte[]>> events = consume("events", 2, id);
        assertThat(events).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .anySatisfy(e -> assertThat(e).contains("\"type\":\"routed\"").contains("localDomains[0]"))
                .anySatisfy(e -> assertThat(e).contains("\"type\":\"rejected\"").contains("default-deny")
                        .contains("victim@remote.example"));
    }

    @Test
    void shouldSplitRecipientsOfAnAuthenticatedSenderByDomain() throws Exception {
        String id = "T" + UUID.randomUUID();
        Envelope inbound = new Envelope(Envelope.VERSION, id, 0, "192.0.2.9", "helo", "submission", true, DEMO,
                "demo@example.test", List.of("a@one.example", "b@two.example", "c@one.example"), false, "7BIT", 3,
                null, 0);
        produce(id, "x\r\n".getBytes(StandardCharsets.US_ASCII), EnvelopeCodec.encode(inbound));
        List<ConsumerRecord<String, byte[]>> outbound = consume("outbound", 2, id);
        assertThat(outbound).extracting(r -> EnvelopeCodec.decode(r.headers().lastHeader(Topics.ENVELOPE_HEADER)
                .value()).recipients()).containsExactlyInAnyOrder(List.of("a@one.example", "c@one.example"),
                List.of("b@two.example"));
        // the sender is in a local domain: the delivery's DSNs to it go LOCAL, not by MX (Relay itself)
        assertThat(outbound).extracting(r -> EnvelopeCodec.decode(r.headers().lastHeader(Topics.ENVELOPE_HEADER)
                .value()).returnRoute()).containsOnly(Route.local("example.test"));
    }

    @Test
    void shouldDecideWithTheRulesInTheRulesTopicAndRouteByThem() throws Exception {
        RuleSet before = store.holder().current().rules().ruleSet();
        store.publish(RuleSetCodec.parse("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "recipients":{"deny":["@now-denied.example"]},
                 "routes":[{"domain":"*.routed.example","nextHop":"gw.routed.example:2526","tls":"verify"}]}"""));
        try {
            String id = "T" + UUID.randomUUID();
            Envelope inbound = new Envelope(Envelope.VERSION, id, 0, "192.0.2.9", "helo", "submission", true, DEMO,
                    "demo@example.test", List.of("a@now-denied.example", "b@x.routed.example"), false, "7BIT", 3,
                    null, 0);
            produce(id, "x\r\n".getBytes(StandardCharsets.US_ASCII), EnvelopeCodec.encode(inbound));
            // the routed recipient, and a DSN to the authenticated sender for the refused one
            List<ConsumerRecord<String, byte[]>> outbound = consume("outbound", 2, id);
            Envelope out = EnvelopeCodec.decode(outbound.stream().filter(r -> !r.key().startsWith(id + "-dsn"))
                    .findFirst().orElseThrow().headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            Envelope dsn = EnvelopeCodec.decode(outbound.stream().filter(r -> r.key().startsWith(id + "-dsn"))
                    .findFirst().orElseThrow().headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            assertThat(dsn.recipients()).containsExactly("demo@example.test");
            assertThat(dsn.route()).isEqualTo(Route.local("example.test"));
            assertThat(out.recipients()).containsExactly("b@x.routed.example");
            assertThat(out.route()).isEqualTo(new Route("x.routed.example", Route.Kind.STATIC, "gw.routed.example",
                    2526, "verify"));
            assertThat(consume("events", 3, id)).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .anySatisfy(e -> assertThat(e).contains("\"type\":\"rejected\"").contains("recipients.deny[0]")
                            .contains("a@now-denied.example"))
                    .anySatisfy(e -> assertThat(e).contains("\"type\":\"bounced\"").contains("recipients.deny[0]"));
        } finally {
            store.publish(before);
        }
    }

    @Test
    void shouldCarryTheCredentialNameOfARouteToTheDeliveryButNoSecret() throws Exception {
        RuleSet before = store.holder().current().rules().ruleSet();
        store.publish(RuleSetCodec.parse("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "routes":[{"domain":"partner.example","nextHop":"in.partner.example:587","auth":"partner-login"}]}"""));
        try {
            String id = "T" + UUID.randomUUID();
            Envelope inbound = new Envelope(Envelope.VERSION, id, 0, "192.0.2.9", "helo", "submission", true, DEMO,
                    "demo@example.test", List.of("b@partner.example"), false, "7BIT", 3, null, 0);
            produce(id, "x\r\n".getBytes(StandardCharsets.US_ASCII), EnvelopeCodec.encode(inbound));

            ConsumerRecord<String, byte[]> record = consume("outbound", 1, id).get(0);
            Envelope out = EnvelopeCodec.decode(record.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            // the name travels, the TLS policy is raised (a credential is only sent over TLS), no secret exists here
            assertThat(out.route()).isEqualTo(new Route("partner.example", Route.Kind.STATIC, "in.partner.example",
                    587, "required", "partner-login"));
            assertThat(record.key()).endsWith(";auth=partner-login");
        } finally {
            store.publish(before);
        }
    }

    @Test
    void shouldSendUndecodableRecordsToTheDeadLetterTopicAndKeepGoing() throws Exception {
        String bad = "BAD" + UUID.randomUUID();
        produce(bad, "junk".getBytes(StandardCharsets.US_ASCII), "{not json".getBytes(StandardCharsets.US_ASCII));
        List<ConsumerRecord<String, byte[]>> dlq = consume("dlq", 1, bad);
        assertThat(new String(dlq.get(0).headers().lastHeader("relay-dlq-reason").value(), StandardCharsets.UTF_8))
                .contains("undecodable");
        // the partition keeps flowing: a good record behind the bad one is still processed
        String good = "T" + UUID.randomUUID();
        Envelope inbound = new Envelope(Envelope.VERSION, good, 0, "192.0.2.9", "helo", "relay", false, null,
                "", List.of("postmaster@example.test"), false, "7BIT", 3, null, 0);
        produce(good, "x\r\n".getBytes(StandardCharsets.US_ASCII), EnvelopeCodec.encode(inbound));
        assertThat(consume("outbound", 1, good)).hasSize(1);
    }

    private void produce(String key, byte[] value, byte[] envelope) throws Exception {
        IsolatedTopicsResource.produceInbound(bootstrap, key, value, envelope);
    }

    /** Reads the topic from the start until {@code count} records whose key starts with {@code id} are seen. */
    private List<ConsumerRecord<String, byte[]>> consume(String topic, int count, String id) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(IsolatedTopicsResource.PREFIX + topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (found.size() < count && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> {
                    if (r.key() != null && r.key().startsWith(id)) {
                        found.add(r);
                    }
                });
            }
        }
        assertThat(found).as("records for " + id + " on " + topic).hasSize(count);
        return found;
    }
}
