package dev.relay.policy.route;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.policy.consume.IsolatedTopicsResource;
import dev.relay.policy.rules.RuleStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Header hygiene through the real Kafka broker: inbound record in, edited outbound record out. */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
class HeaderHygieneKafkaTest {

    private static final Identity DEMO = new Identity("demo", "s", "demo@example.test", List.of("smtp-relay"),
            List.of("/mail-senders"), List.of());
    private static final String HEADER = ""
            + "Received: from client ([192.0.2.1]) by relay.localhost with ESMTPSA id X\r\n"
            + "X-Originating-IP: [192.0.2.1]\r\n"
            + "From: demo@example.test\r\n"
            + "User-Agent: Mutt/2.2\r\n"
            + "\t(continued)\r\n"
            + "Subject: hygiene\r\n";
    private static final String BODY = "User-Agent: in the body, stays\r\n\u00e9\r\n";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    RuleStore store;

    private RuleSet before;

    @BeforeEach
    void headerRules() throws Exception {
        before = store.holder().current().rules().ruleSet();
        store.publish(RuleSetCodec.parseValid("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "headers":[{"strip":["X-Originating-IP","User-Agent"]},
                            {"group":"/mail-senders","add":[{"name":"X-Sent-Via","value":"Relay submission"}]},
                            {"role":"apps","add":[{"name":"X-Not-For-Demo","value":"x"}]}]}"""
                .getBytes(StandardCharsets.UTF_8)));
    }

    @AfterEach
    void restore() throws Exception {
        store.publish(before);
    }

    @Test
    void shouldStripAndAddHeadersOnAuthenticatedMailAndKeepEverythingElse() throws Exception {
        String id = "H" + UUID.randomUUID();
        byte[] original = (HEADER + "\r\n" + BODY).getBytes(StandardCharsets.UTF_8);
        Envelope inbound = new Envelope(Envelope.VERSION, id, 0, "192.0.2.1", "helo", "submission", true, DEMO,
                "demo@example.test", List.of("someone@remote.example"), false, "8BITMIME", original.length, null, 0);
        IsolatedTopicsResource.produceInbound(bootstrap, id, original, EnvelopeCodec.encode(inbound));

        byte[] out = consumeOutbound(id).value();
        assertThat(new String(out, StandardCharsets.UTF_8)).isEqualTo("X-Sent-Via: Relay submission\r\n"
                + "Received: from client ([192.0.2.1]) by relay.localhost with ESMTPSA id X\r\n"
                + "From: demo@example.test\r\n"
                + "Subject: hygiene\r\n"
                + "\r\n" + BODY);
    }

    @Test
    void shouldLeaveUnauthenticatedMailUntouched() throws Exception {
        String id = "H" + UUID.randomUUID();
        byte[] original = (HEADER + "\r\n" + BODY).getBytes(StandardCharsets.UTF_8);
        Envelope inbound = new Envelope(Envelope.VERSION, id, 0, "192.0.2.1", "helo", "relay", false, null,
                "someone@remote.example", List.of("postmaster@example.test"), false, "8BITMIME", original.length,
                null, 0);
        IsolatedTopicsResource.produceInbound(bootstrap, id, original, EnvelopeCodec.encode(inbound));
        assertThat(consumeOutbound(id).value()).isEqualTo(original);
    }

    private ConsumerRecord<String, byte[]> consumeOutbound(String id) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(IsolatedTopicsResource.PREFIX + "outbound"));
            long deadline = System.currentTimeMillis() + 30_000;
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && r.key().startsWith(id)) {
                        return r;
                    }
                }
            }
        }
        throw new AssertionError("no outbound record for " + id);
    }
}
