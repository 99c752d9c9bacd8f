package dev.relay.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayRoot;
import dev.relay.testkit.SmtpTestClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 17, structured logs and ingress events across real processes: the three services run with the JSON switch
 * on ({@code QUARKUS_LOG_CONSOLE_JSON_ENABLED=true}, as deploy/ sets it); one message relayed to a capture MX has
 * its queue id as the JSON field {@code mdc.messageId} on its lines in every service, and its events on the
 * run's events topic start with the ingress's {@code received}.
 */
class StructuredLogsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static RelayCluster cluster;
    private static CaptureMx capture;
    private static final List<RelayService> services = new ArrayList<>();
    private static int relayPort;

    @BeforeAll
    static void start() throws Exception {
        KafkaBroker kafka = KafkaBroker.shared();
        cluster = new RelayCluster(kafka.bootstrapServers(), KeycloakServer.shared().url()).createTopics();
        capture = CaptureMx.start(0, null);
        relayPort = RelayService.freePort();
        Map<String, String> ingress = new HashMap<>(cluster.ingressEnv(relayPort, RelayService.freePort(),
                RelayService.freePort()));
        ingress.put("RELAY_INGRESS_EVENTS_TOPIC", cluster.events);
        Map<String, String> delivery = new HashMap<>(cluster.deliveryEnv());
        delivery.put("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port());
        Map<String, String> policy = new HashMap<>(cluster.policyEnv());
        for (Map<String, String> env : List.of(ingress, policy, delivery)) {
            env.put("QUARKUS_LOG_CONSOLE_JSON_ENABLED", "true");
        }
        services.add(RelayService.start("ingress-service", ingress));
        services.add(RelayService.start("policy-service", policy));
        services.add(RelayService.start("delivery-service", delivery));
    }

    @AfterAll
    static void stop() {
        for (RelayService service : services) {
            service.close();
        }
        if (capture != null) {
            capture.close();
        }
    }

    @Test
    void shouldCarryTheQueueIdAsAJsonFieldInEveryServiceAndStartTheTraceWithReceived() throws Exception {
        String id;
        try (SmtpTestClient c = SmtpTestClient.plain(relayPort)) {
            c.reply();
            c.send("EHLO client.example");
            assertThat(c.send("MAIL FROM:<o1-logs@outside.example>")).startsWith("250");
            assertThat(c.send("RCPT TO:<friend@remote.example>")).startsWith("250");
            assertThat(c.send("DATA")).startsWith("354");
            String reply = c.send("From: o1-logs@outside.example\r\nSubject: structured logs\r\n\r\nhello\r\n.");
            assertThat(reply).startsWith("250 2.0.0");
            id = reply.trim().substring(reply.trim().lastIndexOf(' ') + 1);
            c.send("QUIT");
        }
        capture.awaitMessages(1, Duration.ofSeconds(90));
        String queued = id;
        for (String module : List.of("ingress-service", "policy-service", "delivery-service")) {
            await(module + " logs a JSON line with mdc.messageId " + queued).atMost(Duration.ofSeconds(60))
                    .until(() -> jsonLines(module).stream().anyMatch(l -> queued.equals(l.at("/mdc/messageId").asText())));
            List<JsonNode> lines = jsonLines(module);
            assertThat(lines).as(module + ": every line is JSON").isNotEmpty();
            // every line that names the message (except the session summary, which lists all its ids) carries it
            assertThat(lines.stream().filter(l -> l.path("message").asText().contains(queued)
                    && !l.path("message").asText().startsWith("session ")))
                    .as(module).allSatisfy(l -> assertThat(l.at("/mdc/messageId").asText()).as(l.toString())
                            .isEqualTo(queued));
        }
        List<String> types = eventTypes(queued);
        assertThat(types).first().isEqualTo("received");
        assertThat(types).contains("routed", "delivered");
    }

    /** The module's log lines that are JSON objects (a JVM warning on stderr may not be). */
    private static List<JsonNode> jsonLines(String module) throws IOException {
        Path log = RelayRoot.get().resolve("e2e-tests/target/run/" + module + "/" + module + ".log");
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            if (line.startsWith("{")) {
                lines.add(JSON.readTree(line));
            }
        }
        return lines;
    }

    /** The types of the message's events on the run's topic, in the order of its partition. */
    private static List<String> eventTypes(String id) throws IOException {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap());
        List<String> types = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(cluster.events).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.currentTimeMillis() + 30_000;
            while (System.currentTimeMillis() < deadline && !types.contains("delivered")) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (id.equals(r.key())) {
                        types.add(JSON.readTree(r.value()).path("type").asText());
                    }
                }
            }
        }
        return types;
    }
}
