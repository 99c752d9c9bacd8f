package dev.relay.policy.route;

import dev.relay.common.envelope.Dsn;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Identity;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.policy.consume.IsolatedTopicsResource;
import dev.relay.policy.rules.RuleStore;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** DSNs for recipients refused after acceptance, on the real Kafka broker (same isolated topics). */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
class RefusalDsnTest {

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    RuleStore store;

    @Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    private static final byte[] BODY = "Subject: hello\r\nMessage-ID: <m@partner.example>\r\n\r\nbody\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    @Test
    void shouldNotBounceARefusalToAnExternalUnauthenticatedSender() throws Exception {
        String refused = "T" + UUID.randomUUID();
        String marker = "U" + UUID.randomUUID();
        String key = "K" + UUID.randomUUID();
        // same Kafka key → same partition, processed in order: when the marker's output is there, everything the
        // refused message produced has been acknowledged already
        produce(key, BODY, new Envelope(Envelope.VERSION, refused, 1, "192.0.2.9", "helo", "relay", false, null,
                "someone@outside.example", List.of("victim@remote.example"), false, "7BIT", BODY.length, null, 0));
        produce(key, BODY, new Envelope(Envelope.VERSION, marker, 1, "192.0.2.9", "helo", "relay", false, null,
                "someone@outside.example", List.of("postmaster@example.test"), false, "7BIT", BODY.length, null, 0));

        List<ConsumerRecord<String, byte[]>> outbound = consumeUntil("outbound",
                r -> r.key().startsWith(marker), r -> r.key().startsWith(refused) || r.key().startsWith(marker));
        assertThat(outbound).extracting(ConsumerRecord::key).noneMatch(k -> k.startsWith(refused));
        List<ConsumerRecord<String, byte[]>> events = consumeUntil("events",
                r -> r.key().equals(marker), r -> r.key().equals(refused) || r.key().equals(marker));
        assertThat(events).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .anySatisfy(e -> assertThat(e).contains("\"type\":\"rejected\"").contains(refused))
                .noneSatisfy(e -> assertThat(e).contains("\"type\":\"bounced\""));
    }

    @Test
    void shouldNotBounceToASenderInALocalDomainThatNobodyVouchedFor() throws Exception {
        double suppressedBefore = registry.counter("relay.policy.dsn.suppressed").count();
        String refused = "T" + UUID.randomUUID();
        String marker = "U" + UUID.randomUUID();
        String key = "K" + UUID.randomUUID();
        // MAIL FROM in a local domain is what anyone on the internet can write at the MX role: no DSN to it
        produce(key, BODY, new Envelope(Envelope.VERSION, refused, 1, "192.0.2.9", "helo", "relay", false, null,
                "victim@example.test", List.of("victim@remote.example", "nobody@example.test"), false, "7BIT",
                BODY.length, null, 0));
        produce(key, BODY, new Envelope(Envelope.VERSION, marker, 1, "192.0.2.9", "helo", "relay", false, null,
                "someone@outside.example", List.of("postmaster@example.test"), false, "7BIT", BODY.length, null, 0));

        List<ConsumerRecord<String, byte[]>> outbound = consumeUntil("outbound",
                r -> r.key().startsWith(marker), r -> r.key().startsWith(refused) || r.key().startsWith(marker));
        assertThat(outbound).extracting(ConsumerRecord::key).noneMatch(k -> k.startsWith(refused));
        List<ConsumerRecord<String, byte[]>> events = consumeUntil("events",
                r -> r.key().equals(marker), r -> r.key().equals(refused) || r.key().equals(marker));
        assertThat(events).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .anySatisfy(e -> assertThat(e).contains("\"type\":\"rejected\"").contains("unknown-recipient"))
                .noneSatisfy(e -> assertThat(e).contains("\"type\":\"bounced\""));
        assertThat(registry.counter("relay.policy.dsn.suppressed").count()).isGreaterThan(suppressedBefore);
    }

    @Test
    void shouldBounceARefusalToASenderFromATrustedNetwork() throws Exception {
        String id = "T" + UUID.randomUUID();
        // no identity, but the ingress recorded that the client was in the trusted networks at acceptance
        produce(id, BODY, new Envelope(Envelope.VERSION, id, 1, "10.9.9.9", "helo", "relay", false, null,
                "app@inside.example", List.of("nobody@example.test"), false, "7BIT", BODY.length, null, 0)
                .withTrustedNetwork(true));

        List<ConsumerRecord<String, byte[]>> outbound = consumeUntil("outbound",
                r -> r.key().startsWith(id + "-dsn"), r -> r.key().startsWith(id));
        ConsumerRecord<String, byte[]> record = outbound.stream().filter(r -> r.key().startsWith(id + "-dsn"))
                .findFirst().orElseThrow();
        Envelope envelope = EnvelopeCodec.decode(record.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
        assertThat(envelope.recipients()).containsExactly("app@inside.example");
        String dsn = new String(record.value(), StandardCharsets.UTF_8);
        assertThat(dsn).contains("Status: 5.1.1").contains("smtp; 550 5.1.1 no such user here (rule unknown-recipient)");
    }

    @Test
    void shouldBounceARefusalToAnAuthenticatedSenderThroughTheOutboundTopic() throws Exception {
        RuleSet before = store.holder().current().rules().ruleSet();
        store.publish(RuleSetCodec.parse("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "recipients":{"deny":["@dsn-denied.example"]}}"""));
        try {
            // a sender outside the local domains, vouched for by the identity's smtp_senders
            Identity partner = new Identity("partner", "s", null, List.of("smtp-relay"), List.of(),
                    List.of("@partner.example"));
            String id = "T" + UUID.randomUUID();
            Dsn dsn = new Dsn(null, "ENV-1", Map.of("x@dsn-denied.example",
                    new Dsn.Recipient(List.of("FAILURE"), "rfc822;x@dsn-denied.example")));
            produce(id, BODY, new Envelope(Envelope.VERSION, id, 1, "192.0.2.9", "helo", "submission", true,
                    partner, "alice@partner.example", List.of("x@dsn-denied.example", "y@allowed.example"), false,
                    "7BIT", BODY.length, null, 0, dsn));

            List<ConsumerRecord<String, byte[]>> outbound = consumeUntil("outbound",
                    r -> r.key().startsWith(id + "-dsn"), r -> r.key().startsWith(id));
            ConsumerRecord<String, byte[]> record = outbound.stream().filter(r -> r.key().startsWith(id + "-dsn"))
                    .findFirst().orElseThrow();
            Envelope envelope = EnvelopeCodec.decode(record.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            assertThat(envelope.messageId()).isEqualTo(id + "-dsn");
            assertThat(envelope.mailFrom()).isEmpty();
            assertThat(envelope.recipients()).containsExactly("alice@partner.example");
            assertThat(envelope.route()).isEqualTo(Route.mx("partner.example"));
            assertThat(envelope.size()).isEqualTo(record.value().length);

            MimeMessage message = new MimeMessage(Session.getInstance(new Properties()),
                    new ByteArrayInputStream(record.value()));
            assertThat(message.getHeader("To", null)).isEqualTo("<alice@partner.example>");
            assertThat(message.getHeader("Auto-Submitted", null)).isEqualTo("auto-replied");
            MimeMultipart parts = new MimeMultipart(new ByteArrayDataSource(message.getRawInputStream(),
                    message.getContentType()));
            assertThat(parts.getCount()).isEqualTo(3);
            assertThat(parts.getBodyPart(1).getContentType()).isEqualTo("message/delivery-status");
            ByteArrayInputStream status = new ByteArrayInputStream(((MimeBodyPart) parts.getBodyPart(1))
                    .getRawInputStream().readAllBytes());
            InternetHeaders perMessage = new InternetHeaders(status);
            InternetHeaders perRecipient = new InternetHeaders(status);
            assertThat(perMessage.getHeader("Original-Envelope-Id", null)).isEqualTo("ENV-1");
            assertThat(perRecipient.getHeader("Final-Recipient", null)).isEqualTo("rfc822; x@dsn-denied.example");
            assertThat(perRecipient.getHeader("Action", null)).isEqualTo("failed");
            assertThat(perRecipient.getHeader("Status", null)).isEqualTo("5.7.1");
            assertThat(perRecipient.getHeader("Diagnostic-Code", null)).startsWith("smtp; 554 5.7.1")
                    .contains("recipients.deny[0]");
            assertThat(parts.getBodyPart(2).getContentType()).isEqualTo("text/rfc822-headers");

            // the allowed recipient still goes out, and the bounce is reported with its rule
            assertThat(outbound).extracting(r -> EnvelopeCodec.decode(r.headers().lastHeader(Topics.ENVELOPE_HEADER)
                    .value()).recipients()).contains(List.of("y@allowed.example"));
            List<ConsumerRecord<String, byte[]>> events = consumeUntil("events",
                    r -> new String(r.value(), StandardCharsets.UTF_8).contains("\"type\":\"bounced\""),
                    r -> r.key().equals(id));
            assertThat(events).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .anySatisfy(e -> assertThat(e).contains("\"type\":\"bounced\"").contains("recipients.deny[0]")
                            .contains("x@dsn-denied.example"));
        } finally {
            store.publish(before);
        }
    }

    private void produce(String key, byte[] value, Envelope envelope) throws Exception {
        IsolatedTopicsResource.produceInbound(bootstrap, key, value, EnvelopeCodec.encode(envelope));
    }

    /** Reads the topic from the start, keeping records that match {@code keep}, until one matches {@code until}. */
    private List<ConsumerRecord<String, byte[]>> consumeUntil(String topic,
                                                              Predicate<ConsumerRecord<String, byte[]>> until,
                                                              Predicate<ConsumerRecord<String, byte[]>> keep) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
        boolean done = false;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(IsolatedTopicsResource.PREFIX + topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (!done && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && keep.test(r)) {
                        found.add(r);
                        done |= until.test(r);
                    }
                }
            }
        }
        assertThat(done).as("the awaited record on " + topic).isTrue();
        return found;
    }
}
