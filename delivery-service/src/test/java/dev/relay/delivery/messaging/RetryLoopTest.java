package dev.relay.delivery.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.envelope.Dsn;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.DueTimeConsumer;
import dev.relay.common.kafka.Topics;
import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The retry loop against the real broker and real SMTP receivers: the recipients' MX (a capture MX whose replies
 * each test scripts) and the senders' MX ({@link SenderMxResource}), where DSNs arrive after travelling the
 * outbound topic like any message. Test configuration: schedule {@code 1s,2s}, max-age 30 s, delay notices
 * after 20 s; tests that need an old message give its envelope an earlier receivedAt.
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
@QuarkusTestResource(SenderMxResource.class)
class RetryLoopTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String SENDER = "alice@" + SenderMxResource.DOMAIN;
    private static final Map<String, Function<String, String>> REPLIES = new ConcurrentHashMap<>();

    private static CaptureMx mx;
    private static KafkaTestClient kafka;

    @TestHTTPResource("/q/metrics")
    URL metrics;

    @TestHTTPResource("/q/health/ready")
    URL readiness;

    @BeforeAll
    static void start() {
        mx = CaptureMx.start(0, null);
        mx.setRcptReply(r -> REPLIES.getOrDefault(r, x -> null).apply(r));
        kafka = new KafkaTestClient(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    @AfterAll
    static void stop() {
        mx.close();
        kafka.close();
    }

    @Test
    void shouldDeliverExactlyOnceWhenTheReceiverAcceptsOnALaterAttempt() throws Exception {
        String id = newId();
        String rcpt = "bob+" + id + "@example.org";
        AtomicInteger tries = new AtomicInteger();
        REPLIES.put(rcpt, r -> tries.incrementAndGet() == 1 ? "451 4.3.0 try again later" : null);
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {

            kafka.send(outbound(id, SENDER, List.of(rcpt), Instant.now(), null));

            JsonNode delivered = await().atMost(WAIT).until(() -> event(events, id, "delivered"), Optional::isPresent)
                    .get();
            JsonNode deferred = event(events, id, "deferred").orElseThrow();
            assertThat(deferred.get("reason").asText()).isEqualTo("451 4.3.0 try again later");
            assertThat(deferred.get("attempt").asInt()).isEqualTo(1);
            assertThat(delivered.get("attempt").asInt()).isEqualTo(2);
            assertThat(delivered.get("latencyMs").asLong()).isGreaterThanOrEqualTo(1000);
            assertThat(delivered.get("remote").asText()).endsWith("[127.0.0.1]:" + mx.port());
            assertThat(delivered.has("tls")).as("plain text: no TLS details").isFalse();
        }
        // exactly once in the mailbox, and no further attempt after the success
        assertThat(captured(mx, rcpt)).hasSize(1);
        assertThat(tries.get()).isEqualTo(2);
        assertThat(get(metrics)).contains("relay_delivery_latency_seconds_bucket")
                .contains("relay_delivery_retry_backlog{tier=\"1s\"}")
                .contains("relay_delivery_retry_backlog{tier=\"2s\"}")
                .contains("relay_delivery_retry_oldest_age_seconds")
                // the outbound backlog per partition, for autoscaling (Micrometer's Kafka binder)
                .contains("kafka_consumer_fetch_manager_records_lag")
                .contains("relay_delivery_draining 0.0");
        assertThat(get(readiness)).contains("delivery-drain").contains("\"draining\": false");
    }

    @Test
    void shouldReturnAPermanentFailureToTheSendersMailbox() throws Exception {
        String id = newId();
        String rcpt = "nobody+" + id + "@example.org";
        REPLIES.put(rcpt, r -> "550 5.1.1 <" + r + ">: no such user here");

        kafka.send(outbound(id, SENDER, List.of(rcpt), Instant.now(), null));

        String dsn = await().atMost(WAIT).until(() -> dsnFor(id), Optional::isPresent).get();
        assertThat(dsn).contains("To: <" + SENDER + ">")
                .contains("From: Mail Delivery System <MAILER-DAEMON@delivery.test>")
                .contains("Content-Type: multipart/report; report-type=delivery-status")
                .contains("Content-Type: message/delivery-status")
                .contains("Final-Recipient: rfc822; " + rcpt)
                .contains("Action: failed")
                .contains("Status: 5.1.1")
                .contains("Diagnostic-Code: smtp; 550 5.1.1 <" + rcpt + ">: no such user here")
                .contains("Content-Type: text/rfc822-headers")
                .contains("Subject: retry test " + id); // the original's header section
        assertThat(get(metrics)).contains("relay_delivery_dsn_total{kind=\"failed\"}");
    }

    @Test
    void shouldGiveUpAfterMaxAgeWithTheLastReplyAndAnExpiredEvent() throws Exception {
        String id = newId();
        String rcpt = "full+" + id + "@example.org";
        REPLIES.put(rcpt, r -> "452 4.2.2 mailbox full, try later");
        Dsn failureOnly = new Dsn(null, null, Map.of(rcpt, new Dsn.Recipient(List.of("FAILURE"), null)));
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {

            // 25 s old with max-age 30 s: deferred now, expired at the attempt after 30 s
            kafka.send(outbound(id, SENDER, List.of(rcpt), Instant.now().minusSeconds(25), failureOnly));

            JsonNode expired = await().atMost(WAIT).until(() -> event(events, id, "expired"), Optional::isPresent)
                    .get();
            assertThat(expired.get("reason").asText()).isEqualTo("452 4.2.2 mailbox full, try later");
            assertThat(expired.get("attempt").asInt()).isGreaterThan(1);
            assertThat(event(events, id, "deferred")).isPresent();
        }
        String dsn = await().atMost(WAIT).until(() -> dsnFor(id), Optional::isPresent).get();
        assertThat(dsn)
                .contains("Final-Recipient: rfc822; " + rcpt)
                .contains("Action: failed")
                .contains("Status: 4.2.2")
                .contains("Diagnostic-Code: smtp; 452 4.2.2 mailbox full, try later");
        // NOTIFY=FAILURE: the one DSN is the failure, no delay notice although the message waited past 20 s
        assertThat(dsns(id)).hasSize(1);
        assertThat(get(metrics)).contains("relay_delivery_attempts_total{result=\"expired\"}")
                .contains("relay_delivery_dsn_total{kind=\"expired\"}");
    }

    @Test
    void shouldSendOneDelayNoticeWhenTheMessageWaitedLongEnough() throws Exception {
        String id = newId();
        String rcpt = "slow+" + id + "@example.org";
        AtomicInteger tries = new AtomicInteger();
        // 450, not 421 or 4.7.x: those would put the whole destination in back-off (transport, not under test)
        REPLIES.put(rcpt, r -> tries.incrementAndGet() <= 2 ? "450 4.2.0 mailbox busy, come back later" : null);

        // 21 s old, delay notices after 20 s: the first failure sends a notice, the second does not
        kafka.send(outbound(id, SENDER, List.of(rcpt), Instant.now().minusSeconds(21), null));

        await().atMost(WAIT).until(() -> captured(mx, rcpt), list -> !list.isEmpty());
        String notice = await().atMost(WAIT).until(() -> dsnFor(id), Optional::isPresent).get();
        assertThat(notice)
                .contains("Subject: Delayed Mail (still being retried)")
                .contains("Action: delayed")
                .contains("Status: 4.2.0")
                .contains("Will-Retry-Until: ")
                .contains("Diagnostic-Code: smtp; 450 4.2.0 mailbox busy, come back later");
        assertThat(tries.get()).isEqualTo(3);
        assertThat(dsns(id)).hasSize(1);
        assertThat(get(metrics)).contains("relay_delivery_dsn_total{kind=\"delayed\"}");
    }

    @Test
    void shouldSendNoDsnWhenTheRecipientAskedForNever() throws Exception {
        String id = newId();
        String rcpt = "never+" + id + "@example.org";
        REPLIES.put(rcpt, r -> "550 5.1.1 no such user");
        Dsn never = new Dsn(null, null, Map.of(rcpt, new Dsn.Recipient(List.of("NEVER"), null)));
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS);
             KafkaTestClient.Tail outbound = kafka.tail(Topics.OUTBOUND)) {

            RecordMetadata sent = kafka.send(outbound(id, SENDER, List.of(rcpt), Instant.now(), never));

            await().atMost(WAIT).until(() -> event(events, id, "bounced"), Optional::isPresent);
            // committed means every output of the record was acknowledged: a DSN would be on the topic by now
            await().atMost(WAIT).until(() -> kafka.committed("relay-delivery-test", Topics.OUTBOUND,
                    sent.partition()), committed -> committed > sent.offset());
            assertThat(outbound.withKeyPrefix(id + "-dsn")).isEmpty();
        }
    }

    @Test
    void shouldDeliverFreshMailWhileARetryWaitsForItsDueTime() throws Exception {
        String waitingId = newId();
        String waitingRcpt = "later+" + waitingId + "@example.org";
        String dueId = newId();
        String dueRcpt = "due+" + dueId + "@example.org";
        String freshId = newId();
        String freshRcpt = "fresh+" + freshId + "@example.org";
        Instant dueAt = Instant.now().plusSeconds(15);

        // a record waiting on partition 0 of a tier, a due one on partition 1 of the same tier, a fresh message
        kafka.send(tier("relay.retry.v1.2s", 0, waitingId, waitingRcpt, dueAt));
        kafka.send(tier("relay.retry.v1.2s", 1, dueId, dueRcpt, Instant.now()));
        kafka.send(outbound(freshId, SENDER, List.of(freshRcpt), Instant.now(), null));

        await().atMost(WAIT).until(() -> !captured(mx, freshRcpt).isEmpty() && !captured(mx, dueRcpt).isEmpty());
        assertThat(Instant.now()).as("the test is only meaningful before the waiting record is due")
                .isBefore(dueAt);
        assertThat(captured(mx, waitingRcpt)).isEmpty();
        await().atMost(WAIT).until(() -> !captured(mx, waitingRcpt).isEmpty());
        assertThat(Instant.now()).isAfterOrEqualTo(dueAt);
    }

    @Test
    void shouldMoveAnUndecodableRetryRecordToTheDeadLetterTopicAndGoOn() throws Exception {
        String key = "garbage-" + newId();
        String id = newId();
        String rcpt = "after+" + id + "@example.org";
        try (KafkaTestClient.Tail dlq = kafka.tail(Topics.DLQ)) {
            ProducerRecord<String, byte[]> bad = new ProducerRecord<>("relay.retry.v1.1s", 2, key,
                    "not a message".getBytes(StandardCharsets.US_ASCII));
            bad.headers().add(Topics.ENVELOPE_HEADER, "{not json".getBytes(StandardCharsets.US_ASCII));
            bad.headers().add(DueTimeConsumer.DUE_AT_HEADER, "soon".getBytes(StandardCharsets.US_ASCII));
            kafka.send(bad);
            kafka.send(tier("relay.retry.v1.1s", 2, id, rcpt, Instant.now())); // right behind it

            var dead = await().atMost(WAIT).until(() -> dlq.withKey(key), list -> !list.isEmpty()).get(0);
            assertThat(new String(dead.headers().lastHeader(KafkaDlqPublisher.SOURCE_HEADER).value(),
                    StandardCharsets.UTF_8)).startsWith("relay.retry.v1.1s-2@");
            assertThat(dead.value()).isEqualTo(bad.value());
            await().atMost(WAIT).until(() -> !captured(mx, rcpt).isEmpty());
        }
    }

    @Test
    void shouldCreateTestTopicsForTheConfiguredTiers() {
        List<java.time.Duration> schedule = ConfigProvider.getConfig().getValues("relay.delivery.retry.schedule",
                java.time.Duration.class);
        assertThat(KafkaBroker.RETRY_TIERS).containsAll(Topics.retryTiers(Topics.RETRY_PREFIX, schedule))
                .containsAll(Topics.retryTiers(Topics.RETRY_PREFIX, Topics.DEFAULT_RETRY_SCHEDULE));
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static ProducerRecord<String, byte[]> outbound(String id, String sender, List<String> recipients,
                                                           Instant receivedAt, Dsn dsn) {
        byte[] body = message(id);
        Route route = new Route("example.org", Route.Kind.STATIC, "127.0.0.1", mx.port(), "none");
        Envelope envelope = new Envelope(Envelope.VERSION, id, receivedAt.toEpochMilli(), "192.0.2.10",
                "client.test", "submission", true, new dev.relay.common.envelope.Identity("alice", "sub-1",
                        "alice@relay.test", List.of(), List.of(), List.of()), sender, recipients, false, "7BIT",
                body.length, route, 0,
                dsn);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.OUTBOUND, id + ":" + route.hopKey(),
                body);
        record.headers().add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        return record;
    }

    /** A record as the delivery service writes it to a tier after one failed attempt. */
    private static ProducerRecord<String, byte[]> tier(String topic, int partition, String id, String rcpt,
                                                       Instant dueAt) {
        ProducerRecord<String, byte[]> fresh = outbound(id, SENDER, List.of(rcpt), Instant.now(), null);
        Envelope first = EnvelopeCodec.decode(fresh.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, partition, fresh.key(), fresh.value());
        record.headers().add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(first.nextAttempt(List.of(rcpt), null)));
        record.headers().add(DueTimeConsumer.DUE_AT_HEADER, DueTimeConsumer.dueAtValue(dueAt));
        return record;
    }

    private static byte[] message(String id) {
        return ("From: " + SENDER + "\r\nTo: someone@example.org\r\nSubject: retry test " + id + "\r\n"
                + "Message-ID: <" + id + "@sender.test>\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static List<CapturedMessage> captured(CaptureMx capture, String recipient) {
        return capture.messages().stream().filter(m -> m.recipients().contains(recipient)).toList();
    }

    /** DSNs about message {@code id} in the sender's mailbox: reports that quote its Message-ID header. */
    private static List<String> dsns(String id) {
        String dir = ConfigProvider.getConfig().getValue(SenderMxResource.DIR_KEY, String.class);
        return SenderMxResource.mailbox(dir).stream()
                .filter(m -> m.contains("report-type=delivery-status") && m.contains("<" + id + "@sender.test>"))
                .map(m -> m.replaceAll("\r\n(?=[ \t])", "")) // unfolded (RFC 5322 §2.2.3)
                .toList();
    }

    private static Optional<String> dsnFor(String id) {
        return dsns(id).stream().findFirst();
    }

    private static Optional<JsonNode> event(KafkaTestClient.Tail events, String messageId, String type)
            throws IOException {
        List<JsonNode> found = new ArrayList<>();
        for (var r : events.withKey(messageId)) {
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
}
