package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.SmtpTestClient;
import dev.relay.testkit.TestCa;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Smarthost AUTH across real processes (issue 15, docs/adr/0014): mail submitted to the real ingress goes, through
 * policy and delivery, to a smarthost named {@code ;auth=provider} whose credential is a directory as a mounted
 * Secret gives it. The smarthost is the capture MX acting as a provider's submission server (STARTTLS, then AUTH
 * PLAIN, MAIL refused without it). With a wrong password the message is deferred {@code 4.7.0} and kept (no
 * message reaches the server); once the Secret holds the right password the same message arrives, after AUTH.
 */
class SmarthostAuthIT {

    private static final String RUN = "g-auth-" + UUID.randomUUID().toString().substring(0, 8);
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String USER = "relay@provider.test";
    private static final String PASSWORD = "correct horse";

    private static KafkaBroker kafka;
    private static CaptureMx smarthost;
    private static RelayService ingress;
    private static RelayService policy;
    private static RelayService delivery;
    private static Path credentials;
    private static int submissions;

    @BeforeAll
    static void startRelay() throws IOException {
        kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        kafka.createTopics(List.of("relay.retry.v1.2s"), 3);
        kafka.createCompactedTopic(RUN + ".rules");
        KeycloakServer keycloak = KeycloakServer.shared();
        smarthost = CaptureMx.start(0, null);
        smarthost.requireStartTlsAndAuthPlain(TestCa.create().serverContext("smtp.provider.test"), USER, PASSWORD);
        credentials = Files.createTempDirectory("relay-credentials");
        writeCredential("last year's password");

        submissions = RelayService.freePort();
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("RELAY_INGRESS_KEYCLOAK_URL", keycloak.url());
        env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(submissions));
        env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
        env.put("RELAY_RULES_TOPIC", RUN + ".rules");
        ingress = RelayService.start("ingress-service", env);
        policy = RelayService.start("policy-service", Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "RELAY_RULES_TOPIC", RUN + ".rules"));
        delivery = RelayService.start("delivery-service", Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + smarthost.port() + ";tls=required;internal;auth=provider",
                "RELAY_DELIVERY_AUTH_CREDENTIALS_DIR", credentials.toString(),
                "RELAY_DELIVERY_AUTH_RELOAD_PERIOD", "1s",
                "RELAY_DELIVERY_RETRY_SCHEDULE", "2s",
                "RELAY_DELIVERY_RETRY_GROUP_ID", RUN + "-retry",
                "RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true"));
    }

    @AfterAll
    static void stopRelay() {
        for (AutoCloseable c : new AutoCloseable[]{delivery, policy, ingress, smarthost}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort: the next one must still be stopped
            }
        }
    }

    @Test
    void shouldDeferOnAWrongPasswordAndDeliverAfterAuthOnceTheSecretIsRight() throws Exception {
        String id = RUN + "-1";
        String queueId = submit(id, "friend@remote.example");

        await("the smarthost refuses the wrong password").atMost(WAIT).until(() -> smarthost.authFailures() >= 1);
        List<String> deferred = await("a deferred event with 4.7.0").atMost(WAIT)
                .until(() -> events(queueId), e -> e.stream().anyMatch(j -> j.contains("\"deferred\"")));
        assertThat(deferred).filteredOn(j -> j.contains("\"deferred\"")).first().asString().contains("4.7.0");
        assertThat(events(queueId)).noneMatch(j -> j.contains("\"bounced\"") || j.contains("\"delivered\""));
        assertThat(find(id)).as("nothing reached the smarthost without AUTH").isEmpty();
        assertThat(smarthost.authSuccesses()).isZero();

        writeCredential(PASSWORD);
        CapturedMessage received = await("the same message, delivered after AUTH").atMost(WAIT)
                .until(() -> find(id), Optional::isPresent).get();
        assertThat(received.recipients()).containsExactly("friend@remote.example");
        assertThat(received.mailFrom()).isEqualTo("demo@example.test");
        assertThat(smarthost.authSuccesses()).isPositive();
        await("the delivered event").atMost(WAIT)
                .until(() -> events(queueId).stream().anyMatch(j -> j.contains("\"delivered\"")));
        assertThat(delivery.get("/q/metrics"))
                .containsPattern("relay_delivery_auth_total\\{[^}]*result=\"failure\"[^}]*\\} [1-9]")
                .containsPattern("relay_delivery_auth_total\\{[^}]*result=\"success\"[^}]*\\} [1-9]");
    }

    /** The credential {@code provider} as a mounted Secret: one file per key. */
    private static void writeCredential(String password) {
        try {
            Path home = Files.createDirectories(credentials.resolve("provider"));
            Files.writeString(home.resolve("mechanism"), "plain\n");
            Files.writeString(home.resolve("username"), USER + "\n");
            Files.writeString(home.resolve("password"), password + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One message through the real ingress (implicit TLS, AUTH PLAIN as demo). @return the queue id */
    private static String submit(String id, String rcpt) throws Exception {
        try (SmtpTestClient smtp = SmtpTestClient.implicitTls(submissions)) {
            assertThat(smtp.reply()).startsWith("220");
            assertThat(smtp.send("EHLO client.example")).startsWith("250");
            assertThat(smtp.authPlain("demo", "demo-password")).startsWith("235");
            assertThat(smtp.send("MAIL FROM:<demo@example.test>")).startsWith("250");
            assertThat(smtp.send("RCPT TO:<" + rcpt + ">")).as(smtp.transcript()).startsWith("250");
            assertThat(smtp.send("DATA")).startsWith("354");
            String reply = smtp.send("From: demo@example.test\r\nTo: " + rcpt + "\r\nSubject: " + id
                    + "\r\nMessage-ID: <" + id + "@example.test>\r\n\r\nhello\r\n.");
            assertThat(reply).as(smtp.transcript()).startsWith("250");
            smtp.send("QUIT");
            return reply.strip().substring(reply.strip().lastIndexOf(' ') + 1);
        }
    }

    private static Optional<CapturedMessage> find(String id) {
        return smarthost.messages().stream()
                .filter(m -> new String(m.data(), StandardCharsets.UTF_8).contains("Message-ID: <" + id + "@"))
                .findFirst();
    }

    /** The lifecycle events (JSON) on relay.events.v1 for one queue id. */
    private static List<String> events(String queueId) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor("relay.events.v1").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<String> events = new ArrayList<>();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (queueId.equals(r.key())) {
                        events.add(new String(r.value(), StandardCharsets.UTF_8));
                    }
                });
            }
            return events;
        }
    }
}
