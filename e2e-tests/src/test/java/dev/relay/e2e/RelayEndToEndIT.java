package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayRoot;
import dev.relay.testkit.SmtpTestClient;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The whole relay across real processes: Kafka and Keycloak (shared by the build), the three services started
 * from their packaged jars, and a capture MX standing in for the internet.
 */
class RelayEndToEndIT {

    private static KafkaBroker kafka;
    private static CaptureMx capture;
    private static RelayService ingress;
    private static RelayService policy;
    private static RelayService delivery;
    private static final Map<String, Integer> SMTP = new HashMap<>();
    /** Rules of this class's own, so that no rule set left on relay.rules.v1 decides what these tests see. */
    private static final String RULES_TOPIC = "e2e-" + java.util.UUID.randomUUID().toString().substring(0, 8) + ".rules";

    @BeforeAll
    static void startRelay() {
        kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        kafka.createCompactedTopic(RULES_TOPIC);
        KeycloakServer keycloak = KeycloakServer.shared();
        capture = CaptureMx.start(0, null);
        SMTP.put("relay", RelayService.freePort());
        SMTP.put("submission", RelayService.freePort());
        SMTP.put("submissions", RelayService.freePort());
        ingress = RelayService.start("ingress-service", ingressEnv(kafka.bootstrapServers(), keycloak.url()));
        policy = RelayService.start("policy-service", Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "RELAY_RULES_TOPIC", RULES_TOPIC));
        delivery = RelayService.start("delivery-service", Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port(),
                "RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true"));
    }

    private static Map<String, String> ingressEnv(String bootstrap, String keycloakUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("RELAY_INGRESS_KEYCLOAK_URL", keycloakUrl);
        env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(SMTP.get("relay")));
        env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(SMTP.get("submission")));
        env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(SMTP.get("submissions")));
        env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
        env.put("RELAY_RULES_TOPIC", RULES_TOPIC);
        return env;
    }

    @AfterAll
    static void stopRelay() {
        for (AutoCloseable c : new AutoCloseable[]{delivery, policy, ingress, capture}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort: the next one must still be stopped
            }
        }
    }

    private static Session submissionSession(int port) {
        Properties props = new Properties();
        props.put("mail.smtp.host", "127.0.0.1");
        props.put("mail.smtp.port", String.valueOf(port));
        props.put("mail.smtp.starttls.enable", "true");
        props.put("mail.smtp.starttls.required", "true");
        props.put("mail.smtp.ssl.trust", "*");
        props.put("mail.smtp.ssl.checkserveridentity", "false");
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtp.auth.mechanisms", "PLAIN");
        props.put("mail.smtp.allow8bitmime", "true");
        props.put("mail.smtp.connectiontimeout", "10000");
        props.put("mail.smtp.timeout", "30000");
        return Session.getInstance(props);
    }

    private static MimeMessage eightBitMessage(Session session, String subject) throws Exception {
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress("demo@example.test"));
        message.setRecipients(Message.RecipientType.TO, "friend@remote.example");
        message.setSubject(subject, "UTF-8");
        message.setText("Grüße aus Relay — naïve café, 8-bit ✓\r\n.a line that starts with a dot\r\n"
                + "..and one with two\r\nend\r\n", "UTF-8");
        message.setHeader("Content-Transfer-Encoding", "8bit");
        message.saveChanges();
        return message;
    }

    @Test
    void shouldRelayAnEightBitMessageByteForByteThroughTheWholeSystem() throws Exception {
        Session session = submissionSession(SMTP.get("submission"));
        MimeMessage message = eightBitMessage(session, "Relay e2e byte-exact");
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect("demo", "demo-password");
            transport.sendMessage(message, message.getAllRecipients());
        }
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        message.writeTo(sent);
        byte[] clientBytes = sent.toByteArray();
        assertThat(new String(clientBytes, StandardCharsets.UTF_8)).contains("Grüße aus Relay");
        String messageId = message.getMessageID();

        CapturedMessage received = await("message " + messageId + " at the capture MX")
                .atMost(Duration.ofSeconds(60))
                .until(() -> find(messageId), m -> m != null);

        byte[] data = received.data();
        assertThat(received.recipients()).containsExactly("friend@remote.example");
        assertThat(received.mailFrom()).isEqualTo("demo@example.test");
        assertThat(data.length).isGreaterThan(clientBytes.length);
        byte[] prefix = Arrays.copyOfRange(data, 0, data.length - clientBytes.length);
        byte[] rest = Arrays.copyOfRange(data, data.length - clientBytes.length, data.length);
        assertThat(rest).as("the bytes after Relay's Received: header are exactly what the client sent")
                .isEqualTo(clientBytes);
        String trace = new String(prefix, StandardCharsets.UTF_8);
        assertThat(trace).startsWith("Received: from ").endsWith("\r\n").contains("with ESMTPSA id ");
        assertThat(trace.split("\r\n")).allSatisfy(line ->
                assertThat(line.startsWith("Received: ") || line.startsWith("\t")).isTrue());

        String queueId = trace.substring(trace.indexOf(" id ") + 4).split("[\\s;]")[0];
        await("delivered event for " + queueId).atMost(Duration.ofSeconds(30))
                .until(() -> eventTypes(queueId).containsAll(List.of("routed", "delivered")));
        assertThat(ingress.get("/q/metrics"))
                .containsPattern("relay_ingress_messages_total\\{[^}]*result=\"accepted\"[^}]*\\} [1-9]");
        assertThat(delivery.get("/q/metrics"))
                .containsPattern("relay_delivery_attempts_total\\{[^}]*result=\"delivered\"[^}]*\\} [1-9]");
    }

    /** The lifecycle event types on relay.events.v1 for one message id. */
    private static List<String> eventTypes(String messageId) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props,
                new org.apache.kafka.common.serialization.StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor("relay.events.v1").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<String> types = new java.util.ArrayList<>();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    String json = new String(r.value(), StandardCharsets.UTF_8);
                    if (messageId.equals(r.key())) {
                        types.add(json.replaceAll(".*\"type\":\"([a-z]+)\".*", "$1"));
                    }
                });
            }
            return types;
        }
    }

    private static CapturedMessage find(String messageId) {
        return capture.messages().stream()
                .filter(m -> new String(m.data(), StandardCharsets.UTF_8).contains(messageId))
                .findFirst().orElse(null);
    }

    /** XOAUTH2 from a client library we did not write, with a real Keycloak access token (verified by JWKS). */
    @Test
    void shouldAcceptAKeycloakAccessTokenOverXoauth2() throws Exception {
        String token = KeycloakServer.shared().passwordGrant("relay-ingress", "relay-ingress-dev-secret", "demo",
                "demo-password");
        Session session = submissionSession(SMTP.get("submission"));
        session.getProperties().put("mail.smtp.auth.mechanisms", "XOAUTH2");
        MimeMessage message = eightBitMessage(session, "Relay e2e XOAUTH2");
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect("demo", token);
            transport.sendMessage(message, message.getAllRecipients());
        }
        String messageId = message.getMessageID();
        await("XOAUTH2 message at the capture MX").atMost(Duration.ofSeconds(60)).until(() -> find(messageId) != null);
        try (Transport transport = session.getTransport("smtp")) {
            String forged = token.substring(0, token.lastIndexOf('.') + 1) + "AAAA" + token.substring(token.lastIndexOf('.') + 5);
            // RFC 7628 §3.2.2: a refused token gets an error challenge (334) first; Angus Mail stops there
            assertThatThrownBy(() -> transport.connect("demo", forged))
                    .isInstanceOf(AuthenticationFailedException.class)
                    .hasMessageContaining("334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIi"); // {"status":"invalid_token",...
        }
    }

    /** Keycloak silent (accepts, never answers) → AUTH answers 454 4.7.0 within the configured time, never 535. */
    @Test
    void shouldAnswer454WhenKeycloakDoesNotAnswer() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0)) {
            Map<String, String> env = ingressEnv(kafka.bootstrapServers(), "http://127.0.0.1:" + silent.getLocalPort());
            int submission = RelayService.freePort();
            env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(RelayService.freePort()));
            env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(submission));
            env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(RelayService.freePort()));
            env.put("RELAY_INGRESS_KEYCLOAK_TIMEOUT", "2s");
            try (RelayService lonelyIngress = RelayService.start("ingress-service", env)) {
                Session session = submissionSession(submission);
                long started = System.nanoTime();
                try (Transport transport = session.getTransport("smtp")) {
                    assertThatThrownBy(() -> transport.connect("demo", "demo-password"))
                            .as(lonelyIngress.logTail())
                            .isInstanceOf(AuthenticationFailedException.class).hasMessageContaining("454 4.7.0");
                }
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(15));
            }
        }
    }

    @Test
    void shouldRefuseAWrongPasswordWith535AndPublishNothing() throws Exception {
        long before = inboundEndOffsets();
        Session session = submissionSession(SMTP.get("submission"));
        try (Transport transport = session.getTransport("smtp")) {
            assertThatThrownBy(() -> transport.connect("demo", "wrong-password"))
                    .isInstanceOf(AuthenticationFailedException.class)
                    .hasMessageContaining("535 5.7.8");
        }
        assertThat(inboundEndOffsets()).isEqualTo(before);
    }

    @Test
    void shouldRefuseUnauthenticatedRelayAtRcptWith554() throws Exception {
        try (SmtpTestClient smtp = new SmtpTestClient(SMTP.get("relay"))) {
            assertThat(smtp.reply()).startsWith("220 ");
            assertThat(smtp.send("EHLO attacker.example")).startsWith("250-");
            assertThat(smtp.send("MAIL FROM:<someone@outside.example>")).startsWith("250 ");
            assertThat(smtp.send("RCPT TO:<victim@remote.example>")).as(smtp.transcript()).startsWith("554 5.7.1");
            assertThat(smtp.send("RCPT TO:<victim%remote.example@example.test>")).startsWith("553 5.1.3");
            assertThat(smtp.send("QUIT")).startsWith("221 ");
        }
        try (SmtpTestClient smtp = new SmtpTestClient(SMTP.get("submission"))) {
            smtp.reply();
            smtp.send("EHLO attacker.example");
            assertThat(smtp.send("MAIL FROM:<someone@outside.example>")).startsWith("530 5.7.0");
        }
    }

    /**
     * Kafka stopped → the end of DATA gets 451 4.3.0, never 250; while it stays down the ingress is not ready and
     * new sessions get 421 4.3.0; once it is back, a stopping ingress tells idle sessions 421 4.3.2. A dedicated
     * broker and ingress, so that the other tests keep theirs.
     */
    @Test
    void shouldAnswer451WhenKafkaIsDownAndDrainOnShutdown() throws Exception {
        Path dir = RelayRoot.get().resolve("e2e-tests/target/kafka-down");
        int port = RelayService.freePort();
        KafkaBroker own = KafkaBroker.start(dir, port, RelayService.freePort());
        Map<String, String> env = ingressEnv(own.bootstrapServers(), KeycloakServer.shared().url());
        int relayPort = RelayService.freePort();
        env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(relayPort));
        env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_PUBLISH_TIMEOUT", "3s");
        try {
            KafkaBroker.createRelayTopics(own.bootstrapServers());
            try (RelayService lonelyIngress = RelayService.start("ingress-service", env)) {
                assertThat(sendToLocalDomain(relayPort)).startsWith("250 2.0.0");
                try (SmtpTestClient open = new SmtpTestClient(relayPort)) {
                    open.reply();
                    open.send("EHLO sender.example");
                    own.stop();
                    assertThat(open.send("MAIL FROM:<someone@outside.example>")).startsWith("250");
                    assertThat(open.send("RCPT TO:<postmaster@example.test>")).startsWith("250");
                    assertThat(open.send("DATA")).startsWith("354");
                    assertThat(open.send("Subject: kafka outage test\r\n\r\nhello\r\n."))
                            .as(lonelyIngress.logTail()).startsWith("451 4.3.0");
                }
                // while Kafka stays unreachable the ingress is not ready: probe 503, new sessions 421 4.3.0
                await("ingress not ready").atMost(Duration.ofSeconds(20))
                        .until(() -> lonelyIngress.status("/q/health/ready") == 503);
                try (SmtpTestClient refused = new SmtpTestClient(relayPort)) {
                    assertThat(refused.reply()).startsWith("421 4.3.0");
                }
                own.restart();
                await("ingress ready again").atMost(Duration.ofSeconds(30))
                        .until(() -> lonelyIngress.status("/q/health/ready") == 200);
                // graceful shutdown: an idle session is told 421 4.3.2 before the process exits
                try (SmtpTestClient waiting = new SmtpTestClient(relayPort)) {
                    assertThat(waiting.reply()).startsWith("220 ");
                    assertThat(waiting.send("EHLO sender.example")).startsWith("250");
                    lonelyIngress.close();
                    assertThat(waiting.reply()).startsWith("421 4.3.2");
                }
            }
        } finally {
            own.stop();
        }
    }

    /** Mail for a local domain needs no authentication (the MX role). Returns the reply to the end of DATA. */
    private static String sendToLocalDomain(int port) throws Exception {
        try (SmtpTestClient smtp = new SmtpTestClient(port)) {
            smtp.reply();
            smtp.send("EHLO sender.example");
            assertThat(smtp.send("MAIL FROM:<someone@outside.example>")).startsWith("250");
            assertThat(smtp.send("RCPT TO:<postmaster@example.test>")).startsWith("250");
            assertThat(smtp.send("DATA")).startsWith("354");
            String reply = smtp.send("Subject: kafka outage test\r\n\r\nhello\r\n.");
            smtp.send("QUIT");
            return reply;
        }
    }

    private static long inboundEndOffsets() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor("relay.inbound.v1").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }
}
