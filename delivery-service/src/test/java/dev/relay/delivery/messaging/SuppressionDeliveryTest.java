package dev.relay.delivery.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.envelope.Dsn;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Identity;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import dev.relay.common.suppression.SuppressionCodec;
import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.delivery.suppression.Suppressions;
import dev.relay.testkit.CaptureMx;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.mail.BodyPart;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The suppression list and success DSNs (issue 15) with the real Kafka broker of the build and a real SMTP server
 * (the testkit's capture MX): a hard bounce puts the address on relay.suppression.v1, the next message to it is
 * not attempted (the capture MX sees no connection and no RCPT for it) but reported (event {@code suppressed},
 * DSN); entries expire and tombstones remove them; NOTIFY=SUCCESS gives a "relayed" DSN only where the server
 * could not take the NOTIFY on.
 */
@QuarkusTest
@QuarkusTestResource(value = IsolatedOutboundResource.class, restrictToAnnotatedClass = true)
class SuppressionDeliveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static String group;
    private static String outboundTopic;
    private static String suppressionTopic;
    private static final Identity ALICE = new Identity("alice", "sub-1", "alice@relay.test", List.of(), List.of(),
            List.of());

    private static CaptureMx capture;
    private static KafkaTestClient kafka;

    @Inject
    Suppressions suppressions;

    @Inject
    MeterRegistry registry;

    @BeforeAll
    static void start() {
        capture = CaptureMx.start(0, null);
        kafka = new KafkaTestClient(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
        group = ConfigProvider.getConfig().getValue("mp.messaging.incoming.outbound.group.id", String.class);
        outboundTopic = ConfigProvider.getConfig().getValue("mp.messaging.incoming.outbound.topic", String.class);
        suppressionTopic = ConfigProvider.getConfig().getValue("relay.delivery.suppression.topic", String.class);
    }

    @AfterAll
    static void stop() {
        capture.close();
        kafka.close();
    }

    @AfterEach
    void reset() {
        capture.setRcptReply(null);
    }

    @Test
    void shouldSuppressAnAddressAfterAHardBounceAndNotAttemptItAgain() throws Exception {
        String first = newId();
        String gone = "Gone+" + first + "@example.org";
        String key = gone.toLowerCase();
        capture.setRcptReply(r -> r.equals(gone) ? "550 5.1.1 <" + gone + ">: no such user" : null);
        try (KafkaTestClient.Tail topic = kafka.tail(suppressionTopic)) {
            kafka.send(outbound(envelope(first, List.of(gone), null)));

            ConsumerRecord<String, byte[]> written = await().atMost(WAIT)
                    .until(() -> topic.withKey(key), list -> !list.isEmpty()).get(0);
            SuppressionEntry entry = SuppressionCodec.decode(written.value());
            assertThat(entry.address()).isEqualTo(key);
            assertThat(entry.reason()).isEqualTo("550 5.1.1 <" + gone + ">: no such user");
            assertThat(entry.source()).isEqualTo(SuppressionEntry.Source.BOUNCE);
            assertThat(Duration.between(entry.since(), entry.until())).isEqualTo(Duration.ofDays(30));
        }
        await().atMost(WAIT).until(() -> suppressions.list().active(gone, Instant.now()).isPresent());
        long rcpts = rcptsFor(gone);
        assertThat(rcpts).isEqualTo(1);
        long connections = capture.connectionsAccepted();
        double suppressedBefore = registry.counter(DeliveryMetrics.SUPPRESSED).count();
        capture.setRcptReply(null); // an attempt now would be accepted: only suppression keeps it away

        String second = newId();
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS);
             KafkaTestClient.Tail outbound = kafka.tail(outboundTopic)) {
            RecordMetadata sent = kafka.send(outbound(envelope(second, List.of(gone), null)));

            JsonNode suppressed = await().atMost(WAIT).until(() -> event(events, second, "suppressed"),
                    Optional::isPresent).get();
            assertThat(suppressed.get("recipients").toString()).isEqualTo("[\"" + gone + "\"]");
            assertThat(suppressed.get("reason").asText()).startsWith("550 5.1.1 <" + gone
                    + ">: suppressed after a hard bounce at " + entrySince(gone)).contains("(550 5.1.1 <" + gone);
            ConsumerRecord<String, byte[]> dsn = await().atMost(WAIT)
                    .until(() -> outbound.withKeyPrefix(second + "-dsn"), list -> !list.isEmpty()).get(0);
            String text = new String(dsn.value(), StandardCharsets.UTF_8).replaceAll("\r\n\\s+", " ");
            assertThat(text).contains("Final-Recipient: rfc822; " + gone).contains("Action: failed")
                    .contains("Status: 5.1.1").contains("suppressed after a hard bounce at");
            await().atMost(WAIT).until(() -> kafka.committed(group, outboundTopic, sent.partition()),
                    committed -> committed > sent.offset());
            assertThat(event(events, second, "bounced")).isEmpty();
        }
        assertThat(rcptsFor(gone)).isEqualTo(rcpts);
        assertThat(capture.connectionsAccepted()).isEqualTo(connections);
        assertThat(registry.counter(DeliveryMetrics.SUPPRESSED).count()).isGreaterThan(suppressedBefore);
    }

    @Test
    void shouldNotSuppressAPolicyRefusal() throws Exception {
        String first = newId();
        String refused = "refused+" + first + "@example.org";
        capture.setRcptReply(r -> r.equals(refused) ? "550 5.7.1 message refused as spam" : null);
        try (KafkaTestClient.Tail topic = kafka.tail(suppressionTopic);
             KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {
            RecordMetadata sent = kafka.send(outbound(envelope(first, List.of(refused), null)));
            await().atMost(WAIT).until(() -> event(events, first, "bounced"), Optional::isPresent);
            // committed means every output of the record was acknowledged: an entry would be on the topic by now
            await().atMost(WAIT).until(() -> kafka.committed(group, outboundTopic, sent.partition()),
                    committed -> committed > sent.offset());
            assertThat(topic.withKey(refused)).isEmpty();
        }
        capture.setRcptReply(null);
        String second = newId();
        kafka.send(outbound(envelope(second, List.of(refused), null)));
        await().atMost(WAIT).until(() -> capture.messages().stream()
                .anyMatch(m -> m.recipients().contains(refused)));
    }

    @Test
    void shouldIgnoreExpiredEntriesAndForgetRemovedOnes() throws Exception {
        Instant now = Instant.now();
        String removed = "removed+" + newId() + "@example.org";
        String stale = "stale+" + newId() + "@example.org";
        String shortLived = "short+" + newId() + "@example.org";
        putEntry(new SuppressionEntry(removed, "added in a test", now, now.plus(Duration.ofHours(1)),
                SuppressionEntry.Source.ADMIN));
        putEntry(new SuppressionEntry(stale, "550 5.1.1 old", now.minus(Duration.ofDays(31)),
                now.minus(Duration.ofDays(1)), SuppressionEntry.Source.BOUNCE));
        putEntry(new SuppressionEntry(shortLived, "550 5.1.1 brief", now, now.plusSeconds(3),
                SuppressionEntry.Source.BOUNCE));
        await().atMost(WAIT).until(() -> suppressions.list().active(removed, Instant.now()).isPresent());

        // an administrator's entry suppresses, and says so
        String id = newId();
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {
            kafka.send(outbound(envelope(id, List.of(removed), null)));
            JsonNode suppressed = await().atMost(WAIT).until(() -> event(events, id, "suppressed"),
                    Optional::isPresent).get();
            assertThat(suppressed.get("reason").asText()).contains("suppressed by an administrator at")
                    .contains("(added in a test)");
        }
        // an expired entry is ignored
        kafka.send(outbound(envelope(newId(), List.of(stale), null)));
        await().atMost(WAIT).until(() -> delivered(stale));

        // the tombstone removes it: the next message is attempted
        kafka.send(new ProducerRecord<>(suppressionTopic, removed.toLowerCase(), null));
        await().atMost(WAIT).until(() -> suppressions.list().active(removed, Instant.now()).isEmpty());
        kafka.send(outbound(envelope(newId(), List.of(removed), null)));
        await().atMost(WAIT).until(() -> delivered(removed));

        // an entry that runs out stops suppressing
        await().atMost(WAIT).until(() -> suppressions.list().active(shortLived, Instant.now()).isEmpty());
        kafka.send(outbound(envelope(newId(), List.of(shortLived), null)));
        await().atMost(WAIT).until(() -> delivered(shortLived));
    }

    @Test
    void shouldSendARelayedDsnWhenTheServerCannotTakeNotifyOn() throws Exception {
        String id = newId();
        String rcpt = "bob+" + id + "@example.org";
        Dsn dsn = new Dsn(null, "env-" + id, Map.of(rcpt, new Dsn.Recipient(List.of("SUCCESS", "FAILURE"),
                "rfc822;Bob@Example.org")));
        double relayedBefore = successDsns("relayed");
        try (KafkaTestClient.Tail outbound = kafka.tail(outboundTopic)) {
            kafka.send(outbound(envelope(id, List.of(rcpt), dsn)));

            ConsumerRecord<String, byte[]> record = await().atMost(WAIT)
                    .until(() -> outbound.withKeyPrefix(id + "-dsn"), list -> !list.isEmpty()).get(0);
            MimeMessage message = new MimeMessage(Session.getInstance(new Properties()),
                    new ByteArrayInputStream(record.value()));
            assertThat(message.getHeader("To", null)).isEqualTo("<alice@relay.test>");
            assertThat(message.getSubject()).isEqualTo("Successful Mail Delivery Report");
            assertThat(message.getContentType()).startsWith("multipart/report")
                    .contains("report-type=delivery-status");
            MimeMultipart parts = new MimeMultipart(new ByteArrayDataSource(message.getRawInputStream(),
                    message.getContentType()));
            assertThat(parts.getCount()).isEqualTo(3);
            assertThat(parts.getBodyPart(1).getContentType()).isEqualTo("message/delivery-status");
            List<InternetHeaders> fields = statusFields(parts.getBodyPart(1));
            assertThat(fields).hasSize(2);
            assertThat(fields.get(0).getHeader("Reporting-MTA", null)).isEqualTo("dns; delivery.test");
            assertThat(fields.get(0).getHeader("Original-Envelope-Id", null)).isEqualTo("env-" + id);
            InternetHeaders bob = fields.get(1);
            assertThat(bob.getHeader("Final-Recipient", null)).isEqualTo("rfc822; " + rcpt);
            assertThat(bob.getHeader("Original-Recipient", null)).isEqualTo("rfc822; Bob@Example.org");
            assertThat(bob.getHeader("Action", null)).isEqualTo("relayed");
            assertThat(bob.getHeader("Status", null)).isEqualTo("2.0.0");
            assertThat(bob.getHeader("Remote-MTA", null)).isEqualTo("dns; 127.0.0.1");
            assertThat(jakarta.mail.internet.MimeUtility.unfold(bob.getHeader("Diagnostic-Code", null)))
                    .startsWith("smtp; 250 2.0.0 Ok: queued as");
            // RET not given: headers only
            assertThat(parts.getBodyPart(2).getContentType()).isEqualTo("text/rfc822-headers");
        }
        await().atMost(WAIT).until(() -> successDsns("relayed") > relayedBefore);
    }

    @Test
    void shouldSendNoSuccessDsnWhenTheServerTookNotifyOnOrNotifyIsNever() throws Exception {
        String id = newId();
        String rcpt = "carol+" + id + "@example.org";
        Dsn success = new Dsn("HDRS", null, Map.of(rcpt, new Dsn.Recipient(List.of("SUCCESS"), null)));
        String neverId = newId();
        String never = "dave+" + neverId + "@example.org";
        Dsn nothing = new Dsn(null, null, Map.of(never, new Dsn.Recipient(List.of("NEVER"), null)));
        // a server of its own that offers DSN (a pooled connection to the other one knows its old EHLO)
        try (CaptureMx dsnMx = CaptureMx.start(0, null);
             KafkaTestClient.Tail outbound = kafka.tail(outboundTopic)) {
            dsnMx.setOfferDsn(true);
            RecordMetadata sent = kafka.send(outbound(envelope(id, List.of(rcpt), success, dsnMx.port())));
            await().atMost(WAIT).until(() -> dsnMx.messages().stream().anyMatch(m -> m.recipients().contains(rcpt)));
            await().atMost(WAIT).until(() -> kafka.committed(group, outboundTopic, sent.partition()),
                    committed -> committed > sent.offset());
            assertThat(dsnMx.rcptArguments()).anyMatch(a -> a.contains(rcpt) && a.contains("NOTIFY=SUCCESS"));
            assertThat(outbound.withKeyPrefix(id + "-dsn")).isEmpty();

            RecordMetadata sentNever = kafka.send(outbound(envelope(neverId, List.of(never), nothing)));
            await().atMost(WAIT).until(() -> delivered(never));
            await().atMost(WAIT).until(() -> kafka.committed(group, outboundTopic, sentNever.partition()),
                    committed -> committed > sentNever.offset());
            assertThat(outbound.withKeyPrefix(neverId + "-dsn")).isEmpty();
        }
    }

    // ---- helpers ----

    private String entrySince(String address) {
        return suppressions.list().active(address, Instant.now()).orElseThrow().since().toString();
    }

    private double successDsns(String action) {
        return registry.counter(DeliveryMetrics.SUCCESS_DSNS, "action", action).count();
    }

    private static void putEntry(SuppressionEntry entry) throws Exception {
        kafka.send(new ProducerRecord<>(suppressionTopic, entry.address(), SuppressionCodec.encode(entry)));
    }

    private static long rcptsFor(String address) {
        return capture.rcptArguments().stream().filter(a -> a.contains("<" + address + ">")).count();
    }

    private static boolean delivered(String address) {
        return capture.messages().stream().anyMatch(m -> m.recipients().contains(address));
    }

    /** Submitted by an authenticated identity (a sender DSNs may go to), through a static route to the capture MX. */
    private static Envelope envelope(String id, List<String> recipients, Dsn dsn) {
        return envelope(id, recipients, dsn, capture.port());
    }

    private static Envelope envelope(String id, List<String> recipients, Dsn dsn, int port) {
        return new Envelope(Envelope.VERSION, id, System.currentTimeMillis(), "192.0.2.10", "client.test",
                "submission", true, ALICE, "alice@relay.test", recipients, false, "7BIT", 100,
                new Route("example.org", Route.Kind.STATIC, "127.0.0.1", port, "opportunistic"), 0, dsn);
    }

    private static ProducerRecord<String, byte[]> outbound(Envelope envelope) {
        byte[] body = ("From: alice@relay.test\r\nTo: someone@example.org\r\nSubject: " + envelope.messageId()
                + "\r\nMessage-ID: <" + envelope.messageId() + "@relay.test>\r\n\r\nhello\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(outboundTopic,
                envelope.messageId() + ":" + envelope.route().hopKey(), body);
        record.headers().add(Topics.ENVELOPE_HEADER, dev.relay.common.envelope.EnvelopeCodec.encode(envelope));
        return record;
    }

    private static Optional<JsonNode> event(KafkaTestClient.Tail events, String messageId, String type)
            throws Exception {
        List<JsonNode> found = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : events.withKey(messageId)) {
            JsonNode json = JSON.readTree(r.value());
            if (type.equals(json.get("type").asText())) {
                found.add(json);
            }
        }
        return found.stream().findFirst();
    }

    /** The per-message block, then one block per recipient. */
    private static List<InternetHeaders> statusFields(BodyPart part) throws Exception {
        List<InternetHeaders> blocks = new ArrayList<>();
        try (InputStream in = ((MimeBodyPart) part).getRawInputStream()) {
            ByteArrayInputStream stream = new ByteArrayInputStream(in.readAllBytes());
            while (stream.available() > 0) {
                InternetHeaders h = new InternetHeaders(stream);
                if (h.getAllHeaderLines().hasMoreElements()) {
                    blocks.add(h);
                }
            }
        }
        return blocks;
    }

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }
}
