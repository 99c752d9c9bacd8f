package dev.relay.delivery.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.DueTimeConsumer;
import dev.relay.common.kafka.Topics;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The delivery service against the real Kafka broker of the build and a real SMTP server (the testkit's capture
 * MX): records go in on relay.outbound.v1, mail comes out over SMTP, outcomes come out on relay.events.v1 /
 * the retry tiers / relay.dlq.v1, and the consumer group's offset moves on.
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
class OutboundDeliveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String GROUP = "relay-delivery-test";
    /** The tier after a first failed attempt with the test schedule 1s,2s. */
    private static final String FIRST_TIER = "relay.retry.v1.1s";

    private static CaptureMx capture;
    private static KafkaTestClient kafka;

    @TestHTTPResource("/q/metrics")
    URL metrics;

    @jakarta.inject.Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    @TestHTTPResource("/q/health/ready")
    URL readiness;

    @BeforeAll
    static void start() {
        capture = CaptureMx.start(0, null);
        kafka = new KafkaTestClient(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    @AfterAll
    static void stop() {
        capture.close();
        kafka.close();
    }

    @AfterEach
    void resetCapture() {
        capture.setRcptReply(null);
    }

    @Test
    void shouldDeliverOutboundRecordByteForByteAndCommitIt() throws Exception {
        String id = newId();
        String rcpt = "bob+" + id + "@example.org";
        byte[] body = eightBitMessage(id);
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {

            RecordMetadata sent = kafka.send(outbound(id, List.of(rcpt), body, staticRoute(capture.port())));

            CapturedMessage received = await().atMost(WAIT).until(() -> captured(rcpt), Optional::isPresent).get();
            assertThat(received.data()).isEqualTo(body);
            assertThat(received.mailFrom()).isEqualTo("alice@relay.test");
            assertThat(received.recipients()).containsExactly(rcpt);
            assertThat(received.heloName()).isEqualTo("delivery.test");

            JsonNode delivered = await().atMost(WAIT).until(() -> event(events, id, "delivered"), Optional::isPresent)
                    .get();
            assertThat(delivered.get("service").asText()).isEqualTo("delivery");
            assertThat(delivered.get("recipients").get(0).asText()).isEqualTo(rcpt);
            assertThat(delivered.get("reason").asText()).startsWith("250");
            assertThat(delivered.get("remote").asText()).endsWith("[127.0.0.1]:" + capture.port());

            await().atMost(WAIT).until(() -> kafka.committed(GROUP, Topics.OUTBOUND, sent.partition()),
                    committed -> committed > sent.offset());
        }
        assertThat(get(metrics)).contains("relay_delivery_attempts_total{result=\"delivered\"}")
                .contains("relay_delivery_duration_seconds_count");
    }

    @Test
    void shouldReportEachRecipientsOwnOutcome() throws Exception {
        String id = newId();
        String good = "bob+" + id + "@example.org";
        String bad = "nobody+" + id + "@example.org";
        capture.setRcptReply(r -> r.equals(bad) ? "550 5.1.1 no such user" : null);
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {

            kafka.send(outbound(id, List.of(bad, good), eightBitMessage(id), staticRoute(capture.port())));

            JsonNode bounced = await().atMost(WAIT).until(() -> event(events, id, "bounced"), Optional::isPresent)
                    .get();
            assertThat(bounced.get("recipients").toString()).isEqualTo("[\"" + bad + "\"]");
            assertThat(bounced.get("reason").asText()).startsWith("550 5.1.1");
            JsonNode delivered = await().atMost(WAIT).until(() -> event(events, id, "delivered"),
                    Optional::isPresent).get();
            assertThat(delivered.get("recipients").toString()).isEqualTo("[\"" + good + "\"]");
        }
    }

    @Test
    void shouldBounceAPermanentFailureWithADsnToTheSenderOnTheOutboundTopic() throws Exception {
        String id = newId();
        String bad = "nobody+" + id + "@example.org";
        String good = "bob+" + id + "@example.org";
        capture.setRcptReply(r -> r.equals(bad) ? "550 5.1.1 no such user" : null);
        byte[] body = eightBitMessage(id);
        try (KafkaTestClient.Tail outbound = kafka.tail(Topics.OUTBOUND)) {

            RecordMetadata sent = kafka.send(outbound(id, "alice@relay.test", List.of(bad, good), body,
                    staticRoute(capture.port())));

            ConsumerRecord<String, byte[]> dsn = await().atMost(WAIT)
                    .until(() -> outbound.withKeyPrefix(id + "-dsn"), list -> !list.isEmpty()).get(0);
            Envelope envelope = EnvelopeCodec.decode(dsn.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            assertThat(envelope.mailFrom()).isEmpty();
            assertThat(envelope.recipients()).containsExactly("alice@relay.test");
            assertThat(envelope.route()).isEqualTo(Route.mx("relay.test"));
            assertThat(envelope.messageId()).startsWith(id + "-dsn");
            assertThat(dsn.key()).isEqualTo(envelope.messageId() + "/" + envelope.route().hopKey());
            String text = new String(dsn.value(), StandardCharsets.UTF_8);
            assertThat(text).contains("Content-Type: multipart/report; report-type=delivery-status")
                    .contains("To: <alice@relay.test>")
                    .contains("Auto-Submitted: auto-replied")
                    .contains("Content-Type: message/delivery-status")
                    .contains("Reporting-MTA: dns; delivery.test")
                    .contains("Final-Recipient: rfc822; " + bad)
                    .doesNotContain("Final-Recipient: rfc822; " + good)
                    .contains("Action: failed")
                    .contains("Status: 5.1.1")
                    .contains("Remote-MTA: dns; ")
                    .contains("Diagnostic-Code: smtp; 550 5.1.1 no such user")
                    .contains("Content-Type: text/rfc822-headers");
            // the original is acknowledged (committed) only once the DSN is on the topic
            await().atMost(WAIT).until(() -> kafka.committed(GROUP, Topics.OUTBOUND, sent.partition()),
                    committed -> committed > sent.offset());
        }
    }

    @Test
    void shouldNotBounceToASenderNobodyVouchedFor() throws Exception {
        String id = newId();
        String bad = "nobody+" + id + "@example.org";
        capture.setRcptReply(r -> r.equals(bad) ? "550 5.1.1 no such user" : null);
        double suppressed = registry.counter(DeliveryMetrics.DSN_SUPPRESSED).count();
        byte[] body = eightBitMessage(id);
        // received at the MX role: no identity, a client outside the trusted networks, a reverse path anyone
        // could have written (the victim of backscatter)
        Envelope anonymous = new Envelope(Envelope.VERSION, id, System.currentTimeMillis(), "198.51.100.7",
                "client.test", "relay", false, null, "victim@forged.example", List.of(bad), false, "8BITMIME",
                body.length, staticRoute(capture.port()), 0);
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS);
             KafkaTestClient.Tail outbound = kafka.tail(Topics.OUTBOUND)) {

            RecordMetadata sent = kafka.send(outbound(anonymous, body));

            await().atMost(WAIT).until(() -> event(events, id, "bounced"), Optional::isPresent);
            // committed means every output of the record was acknowledged: a DSN would be on the topic by now
            await().atMost(WAIT).until(() -> kafka.committed(GROUP, Topics.OUTBOUND, sent.partition()),
                    committed -> committed > sent.offset());
            assertThat(outbound.withKeyPrefix(id + "-dsn")).isEmpty();
            assertThat(registry.counter(DeliveryMetrics.DSN_SUPPRESSED).count()).isGreaterThan(suppressed);
        }

        // the same failure for a client in the trusted networks is reported to its sender
        String trustedId = newId();
        String trustedBad = "nobody+" + trustedId + "@example.org";
        capture.setRcptReply(r -> r.equals(trustedBad) ? "550 5.1.1 no such user" : null);
        byte[] trustedBody = eightBitMessage(trustedId);
        Envelope trusted = new Envelope(Envelope.VERSION, trustedId, System.currentTimeMillis(), "10.0.0.7",
                "client.test", "relay", false, null, "app@inside.example", List.of(trustedBad), false, "8BITMIME",
                trustedBody.length, staticRoute(capture.port()), 0).withTrustedNetwork(true);
        try (KafkaTestClient.Tail outbound = kafka.tail(Topics.OUTBOUND)) {
            kafka.send(outbound(trusted, trustedBody));
            ConsumerRecord<String, byte[]> dsn = await().atMost(WAIT)
                    .until(() -> outbound.withKeyPrefix(trustedId + "-dsn"), list -> !list.isEmpty()).get(0);
            assertThat(EnvelopeCodec.decode(dsn.headers().lastHeader(Topics.ENVELOPE_HEADER).value()).recipients())
                    .containsExactly("app@inside.example");
        }
    }

    @Test
    void shouldNeverBounceToTheNullSender() throws Exception {
        String id = newId();
        String bad = "nobody+" + id + "@example.org";
        capture.setRcptReply(r -> r.equals(bad) ? "550 5.1.1 no such user" : null);
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS);
             KafkaTestClient.Tail outbound = kafka.tail(Topics.OUTBOUND)) {

            RecordMetadata sent = kafka.send(outbound(id, "", List.of(bad), eightBitMessage(id),
                    staticRoute(capture.port())));

            await().atMost(WAIT).until(() -> event(events, id, "bounced"), Optional::isPresent);
            // committed means every output of the record was acknowledged: a DSN would be on the topic by now
            await().atMost(WAIT).until(() -> kafka.committed(GROUP, Topics.OUTBOUND, sent.partition()),
                    committed -> committed > sent.offset());
            for (int i = 0; i < 10; i++) {
                assertThat(outbound.withKeyPrefix(id + "-dsn")).isEmpty();
            }
            assertThat(outbound.withKeyPrefix(id)).hasSize(1);
        }
    }

    @Test
    void shouldHandDeferredRecipientsToRetryTopic() throws Exception {
        String id = newId();
        String rcpt = "carol+" + id + "@example.org";
        byte[] body = eightBitMessage(id);
        Route unreachable = staticRoute(closedPort());
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS);
             KafkaTestClient.Tail retry = kafka.tail(FIRST_TIER)) {

            ProducerRecord<String, byte[]> record = outbound(id, List.of(rcpt), body, unreachable);
            RecordMetadata sent = kafka.send(record);

            JsonNode deferred = await().atMost(WAIT).until(() -> event(events, id, "deferred"), Optional::isPresent)
                    .get();
            assertThat(deferred.get("reason").asText()).startsWith("451 4.4.1");
            ConsumerRecord<String, byte[]> again = await().atMost(WAIT)
                    .until(() -> retry.withKey(record.key()), list -> !list.isEmpty()).get(0);
            assertThat(again.value()).isEqualTo(body);
            Envelope envelope = EnvelopeCodec.decode(again.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            assertThat(envelope.attempts()).isEqualTo(1);
            assertThat(envelope.recipients()).containsExactly(rcpt);
            assertThat(envelope.route()).isEqualTo(unreachable);
            assertThat(envelope.history().lastReply(rcpt).reply()).startsWith("451 4.4.1");
            assertThat(envelope.history().firstAttemptAt()).isEqualTo(envelope.history().lastAttemptAt());
            // due one step (1s in tests) after the failure
            long dueAt = DueTimeConsumer.dueAt(again).orElseThrow();
            assertThat(dueAt - envelope.history().lastAttemptAt()).isEqualTo(1000);
            await().atMost(WAIT).until(() -> kafka.committed(GROUP, Topics.OUTBOUND, sent.partition()),
                    committed -> committed > sent.offset());
        }
    }

    @Test
    void shouldDeferLocalMailWithoutAMailboxRouteToTheRetryTiers() throws Exception {
        // the test profile configures no relay.delivery.mailbox-route (and no smarthost)
        String id = newId();
        String rcpt = "dave+" + id + "@example.test";
        byte[] body = eightBitMessage(id);
        Route local = Route.local("example.test");
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS);
             KafkaTestClient.Tail retry = kafka.tail(FIRST_TIER)) {

            ProducerRecord<String, byte[]> record = outbound(id, List.of(rcpt), body, local);
            kafka.send(record);

            JsonNode deferred = await().atMost(WAIT).until(() -> event(events, id, "deferred"), Optional::isPresent)
                    .get();
            assertThat(deferred.get("reason").asText())
                    .startsWith("451 4.3.5 no mailbox route for local domain example.test");
            ConsumerRecord<String, byte[]> again = await().atMost(WAIT)
                    .until(() -> retry.withKey(record.key()), list -> !list.isEmpty()).get(0);
            Envelope envelope = EnvelopeCodec.decode(again.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            assertThat(envelope.route()).isEqualTo(local);
            assertThat(envelope.recipients()).containsExactly(rcpt);
        }
        assertThat(captured(rcpt)).isEmpty();
        assertThat(get(metrics)).containsPattern("relay_delivery_local_unrouted_total(\\{[^}]*\\})? [1-9]");
    }

    @Test
    void shouldMoveUndecodableRecordToDeadLetterTopic() throws Exception {
        String key = "garbage-" + newId();
        try (KafkaTestClient.Tail dlq = kafka.tail(Topics.DLQ)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.OUTBOUND, key,
                    "not a message".getBytes(StandardCharsets.US_ASCII));
            record.headers().add(Topics.ENVELOPE_HEADER, "{not json".getBytes(StandardCharsets.US_ASCII));

            RecordMetadata sent = kafka.send(record);

            ConsumerRecord<String, byte[]> dead = await().atMost(WAIT)
                    .until(() -> dlq.withKey(key), list -> !list.isEmpty()).get(0);
            assertThat(dead.value()).isEqualTo(record.value());
            assertThat(new String(dead.headers().lastHeader(KafkaDlqPublisher.REASON_HEADER).value(),
                    StandardCharsets.UTF_8)).contains("undecodable envelope");
            assertThat(dead.headers().lastHeader(Topics.ENVELOPE_HEADER)).isNotNull();
            await().atMost(WAIT).until(() -> kafka.committed(GROUP, Topics.OUTBOUND, sent.partition()),
                    committed -> committed > sent.offset());
        }
        assertThat(get(metrics)).contains("relay_delivery_dlq_total");
    }

    @Test
    void shouldReportKafkaInReadiness() throws Exception {
        assertThat(get(readiness)).contains("\"status\": \"UP\"").contains("outbound");
    }

    private static ProducerRecord<String, byte[]> outbound(String id, List<String> recipients, byte[] body,
                                                           Route route) {
        return outbound(id, "alice@relay.test", recipients, body, route);
    }

    /** Submitted by an authenticated identity (a sender DSNs may go to). */
    private static ProducerRecord<String, byte[]> outbound(String id, String sender, List<String> recipients,
                                                           byte[] body, Route route) {
        return outbound(new Envelope(Envelope.VERSION, id, System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, ALICE, sender, recipients, false, "8BITMIME",
                body.length, route, 0), body);
    }

    private static final dev.relay.common.envelope.Identity ALICE = new dev.relay.common.envelope.Identity("alice",
            "sub-1", "alice@relay.test", List.of(), List.of(), List.of());

    private static ProducerRecord<String, byte[]> outbound(Envelope envelope, byte[] body) {
        String id = envelope.messageId();
        Route route = envelope.route();
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.OUTBOUND, id + ":" + route.hopKey(),
                body);
        record.headers().add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        return record;
    }

    private static Route staticRoute(int port) {
        return new Route("example.org", Route.Kind.STATIC, "127.0.0.1", port, "opportunistic");
    }

    /** A stored message as the ingress would hand it on: CRLF, 8-bit UTF-8 and Latin-1 bytes, dot lines. */
    private static byte[] eightBitMessage(String id) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(("Received: from client.test ([192.0.2.10]) by relay.test with ESMTPSA id " + id + "\r\n"
                + "From: alice@relay.test\r\nTo: bob@example.org\r\nSubject: Grüße " + id + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + "Grüße aus Köln, ½ € 日本\r\n.a line that starts with a dot\r\n.\r\n..\r\n")
                .getBytes(StandardCharsets.UTF_8));
        out.write(new byte[]{(byte) 0xE9, (byte) 0xFF, (byte) 0x80, '\r', '\n'});
        out.write("last line\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static Optional<CapturedMessage> captured(String recipient) {
        return capture.messages().stream().filter(m -> m.recipients().contains(recipient)).findFirst();
    }

    private static Optional<JsonNode> event(KafkaTestClient.Tail events, String messageId, String type)
            throws IOException {
        List<JsonNode> found = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : events.withKey(messageId)) {
            JsonNode json = JSON.readTree(r.value());
            if (type.equals(json.get("type").asText())) {
                found.add(json);
            }
        }
        return found.stream().findFirst();
    }

    private static String get(URL url) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(url.toString())).build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
