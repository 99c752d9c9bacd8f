package dev.relay.policy.route;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.policy.consume.IsolatedTopicsResource;
import dev.relay.policy.dkim.DkimKeys;
import dev.relay.policy.rules.RuleStore;
import dev.relay.testkit.DkimKeyFiles;
import dev.relay.testkit.Dkimpy;
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
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * DKIM signing in the policy service through the real Kafka broker: the outbound record carries the signatures
 * (checked by dkimpy, a verifier we did not write) and the {@code routed} event names them; a signing rule whose
 * key is missing holds the message (not sent unsigned, not dropped) until the key is there; mail received as an
 * MX is never signed.
 */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
class DkimSigningKafkaTest {

    private static final Identity DEMO = new Identity("demo", "s", "demo@example.test", List.of("smtp-relay"),
            List.of(), List.of());
    private static final String MESSAGE = ""
            + "Received: from client ([192.0.2.1]) by relay.localhost with ESMTPSA id X\r\n"
            + "From: Demo <demo@example.test>\r\n"
            + "To: someone@remote.example\r\n"
            + "Subject: signed by\r\n"
            + " the policy\r\n"
            + "Date: Thu, 03 Dec 2026 15:00:00 +0000\r\n"
            + "Message-ID: <m1@example.test>\r\n"
            + "\r\n"
            + "Gr\u00fc\u00dfe\r\n";

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    RuleStore store;

    @Inject
    DkimKeys keys;

    private RuleSet before;

    @BeforeEach
    void remember() {
        before = store.holder().current().rules().ruleSet();
    }

    @AfterEach
    void restore() throws Exception {
        store.publish(before);
    }

    @Test
    void shouldSignWithBothKeysAndNameThemInTheRoutedEvent() throws Exception {
        KeyPair rsa = DkimKeyFiles.rsa(2048);
        KeyPair ed = DkimKeyFiles.ed25519();
        DkimKeyFiles.write(IsolatedTopicsResource.KEYS_DIR, "example.test", "krsa", rsa.getPrivate());
        DkimKeyFiles.write(IsolatedTopicsResource.KEYS_DIR, "example.test", "ked", ed.getPrivate());
        keys.reload();
        rules("{\"domain\":\"example.test\",\"selectors\":[\"krsa\",\"ked\"]}");

        String id = "D" + UUID.randomUUID();
        byte[] original = MESSAGE.getBytes(StandardCharsets.UTF_8);
        produce(id, original, DEMO, "submission");

        byte[] out = consume("outbound", id).value();
        assertThat(new String(out, StandardCharsets.UTF_8)).startsWith("DKIM-Signature: v=1; a=rsa-sha256;")
                .endsWith(MESSAGE).contains("\r\nDKIM-Signature: v=1; a=ed25519-sha256;");
        Dkimpy.Result result = Dkimpy.verify(out, Map.of(
                "krsa._domainkey.example.test", DkimKeyFiles.txt(rsa.getPublic()),
                "ked._domainkey.example.test", DkimKeyFiles.txt(ed.getPublic())));
        assertThat(result.verified()).as(result.output()).isTrue();
        assertThat(result.passed()).containsExactly("example.test/krsa/rsa-sha256", "example.test/ked/ed25519-sha256");
        assertThat(new String(consume("events", id, "\"routed\"").value(), StandardCharsets.UTF_8))
                .contains("\"dkim\":[\"example.test/krsa\",\"example.test/ked\"]");
    }

    @Test
    void shouldHoldAMessageWhoseKeyIsMissingAndSignItOnceTheKeyIsThere() throws Exception {
        rules("{\"domain\":\"example.test\",\"selector\":\"later\"}");
        String id = "D" + UUID.randomUUID();
        produce(id, MESSAGE.getBytes(StandardCharsets.UTF_8), DEMO, "submission");

        assertThat(new String(consume("events", id, "\"held\"").value(), StandardCharsets.UTF_8))
                .contains("dkim[0]: no usable key example.test/later");
        assertThat(find("outbound", id, null, Duration.ofSeconds(4))).as("sent unsigned").isNull();

        KeyPair ed = DkimKeyFiles.ed25519();
        DkimKeyFiles.write(IsolatedTopicsResource.KEYS_DIR, "example.test", "later", ed.getPrivate());
        keys.reload();

        byte[] out = consume("outbound", id).value();
        Dkimpy.Result result = Dkimpy.verify(out, Map.of("later._domainkey.example.test",
                DkimKeyFiles.txt(ed.getPublic())));
        assertThat(result.verified()).as(result.output()).isTrue();
    }

    @Test
    void shouldNeverSignMailReceivedAsAnMx() throws Exception {
        DkimKeyFiles.write(IsolatedTopicsResource.KEYS_DIR, "example.test", "mx1", DkimKeyFiles.ed25519().getPrivate());
        keys.reload();
        rules("{\"domain\":\"example.test\",\"selector\":\"mx1\"}");
        String id = "D" + UUID.randomUUID();
        byte[] original = MESSAGE.getBytes(StandardCharsets.UTF_8);
        produce(id, original, null, "relay"); // a forged From of ours, from anyone, to our postmaster

        assertThat(consume("outbound", id).value()).isEqualTo(original);
    }

    private void rules(String dkim) throws Exception {
        store.publish(RuleSetCodec.parseValid(("{\"version\":1,\"localDomains\":[\"example.test\"],"
                + "\"relayRoles\":[\"smtp-relay\"],\"dkim\":[" + dkim + "]}").getBytes(StandardCharsets.UTF_8)));
    }

    private void produce(String id, byte[] message, Identity identity, String listener) throws Exception {
        List<String> to = identity == null ? List.of("postmaster@example.test") : List.of("someone@remote.example");
        Envelope inbound = new Envelope(Envelope.VERSION, id, 0, "192.0.2.1", "helo", listener, true, identity,
                identity == null ? "someone@remote.example" : "demo@example.test", to, false, "8BITMIME",
                message.length, null, 0);
        IsolatedTopicsResource.produceInbound(bootstrap, id, message, EnvelopeCodec.encode(inbound));
    }

    private ConsumerRecord<String, byte[]> consume(String topic, String id) {
        return consume(topic, id, null);
    }

    private ConsumerRecord<String, byte[]> consume(String topic, String id, String contains) {
        ConsumerRecord<String, byte[]> record = find(topic, id, contains, Duration.ofSeconds(30));
        if (record == null) {
            throw new AssertionError("no " + topic + " record for " + id + (contains == null ? "" : " with " + contains));
        }
        return record;
    }

    private ConsumerRecord<String, byte[]> find(String topic, String id, String contains, Duration timeout) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(IsolatedTopicsResource.PREFIX + topic));
            long deadline = System.currentTimeMillis() + timeout.toMillis();
            List<String> seen = new ArrayList<>();
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && r.key().startsWith(id)) {
                        String value = new String(r.value(), StandardCharsets.UTF_8);
                        seen.add(value);
                        if (contains == null || value.contains(contains)) {
                            return r;
                        }
                    }
                }
            }
        }
        return null;
    }
}
