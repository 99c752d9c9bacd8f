package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The suppression list across real processes (issue 15): a delivery worker meets a {@code 550 5.1.1} at a real SMTP
 * server (the capture MX), the entry it writes to the compacted topic shows in the policy's admin API, the next
 * message to that address is not attempted (the server sees no RCPT for it) but reported to the sender by a DSN
 * that travels the normal path, and a DELETE through the admin API with a real Keycloak token lets the next message
 * through. Topics of this class's own.
 */
class SuppressionIT {

    private static final String RUN = "suppression-" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static KeycloakServer keycloak;
    private static CaptureMx mx;
    private static RelayInstance policy;
    private static RelayInstance delivery;
    private static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void startRelay() {
        KafkaBroker kafka = KafkaBroker.shared();
        kafka.createCompactedTopic(RUN + ".rules");
        kafka.createCompactedTopic(RUN + ".suppression");
        kafka.createTopics(List.of(RUN + ".inbound", RUN + ".outbound", RUN + ".events", RUN + ".dlq"), 3);
        keycloak = KeycloakServer.shared();
        mx = CaptureMx.start(0, null);

        Map<String, String> policyEnv = new HashMap<>();
        policyEnv.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        policyEnv.put("RELAY_RULES_TOPIC", RUN + ".rules");
        policyEnv.put("RELAY_POLICY_KEYCLOAK_URL", keycloak.url());
        policyEnv.put("RELAY_POLICY_TOPICS_INBOUND", RUN + ".inbound");
        policyEnv.put("RELAY_POLICY_TOPICS_OUTBOUND", RUN + ".outbound");
        policyEnv.put("RELAY_POLICY_TOPICS_EVENTS", RUN + ".events");
        policyEnv.put("RELAY_POLICY_TOPICS_DLQ", RUN + ".dlq");
        policyEnv.put("RELAY_POLICY_SUPPRESSION_TOPIC", RUN + ".suppression");
        policyEnv.put("MP_MESSAGING_INCOMING_INBOUND_GROUP_ID", RUN);
        policy = RelayInstance.launch("policy-service", "policy", RUN, policyEnv, RelayService.freePort());

        Map<String, String> deliveryEnv = new HashMap<>();
        deliveryEnv.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        deliveryEnv.put("RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true");
        deliveryEnv.put("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + mx.port() + ";tls=none;internal");
        deliveryEnv.put("RELAY_DELIVERY_SUPPRESSION_TOPIC", RUN + ".suppression");
        deliveryEnv.put("MP_MESSAGING_OUTGOING_SUPPRESSION_OUT_TOPIC", RUN + ".suppression");
        deliveryEnv.put("MP_MESSAGING_INCOMING_OUTBOUND_TOPIC", RUN + ".outbound");
        deliveryEnv.put("MP_MESSAGING_INCOMING_OUTBOUND_GROUP_ID", RUN);
        deliveryEnv.put("MP_MESSAGING_OUTGOING_MAIL_OUT_TOPIC", RUN + ".outbound");
        deliveryEnv.put("MP_MESSAGING_OUTGOING_EVENTS_OUT_TOPIC", RUN + ".events");
        deliveryEnv.put("MP_MESSAGING_OUTGOING_DLQ_OUT_TOPIC", RUN + ".dlq");
        deliveryEnv.put("RELAY_DELIVERY_RETRY_SCHEDULE", "1s,2s");
        deliveryEnv.put("RELAY_DELIVERY_RETRY_GROUP_ID", RUN + "-retry");
        delivery = RelayInstance.launch("delivery-service", "delivery", RUN, deliveryEnv, RelayService.freePort());
        policy.awaitReady(Duration.ofSeconds(90));
        delivery.awaitReady(Duration.ofSeconds(90));

        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    @AfterAll
    static void stopRelay() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        for (RelayInstance instance : new RelayInstance[] {delivery, policy}) {
            if (instance != null) {
                instance.close();
            }
        }
        if (mx != null) {
            mx.close();
        }
    }

    @Test
    void shouldStopAfterAHardBounceAndResumeWhenAnAdministratorRemovesTheEntry() throws Exception {
        String gone = "gone-" + RUN + "@example.org";
        String admin = keycloak.browserLogin("relay-admin-cli", "relayadmin", "relayadmin-password");
        mx.setRcptReply(r -> r.equals(gone) ? "550 5.1.1 <" + gone + ">: no such user" : null);

        send(RUN + "-1", gone);
        HttpResponse<String> entry = await("the delivery's entry, seen by the policy's admin API").atMost(WAIT)
                .until(() -> api("GET", "/" + enc(gone), admin), r -> r.statusCode() == 200);
        assertThat(entry.body()).contains("\"source\":\"bounce\"").contains("550 5.1.1");

        mx.setRcptReply(null); // from now on the server would accept it: only the suppression list keeps it away
        long rcpts = rcpts(gone);
        send(RUN + "-2", gone);
        CapturedMessage dsn = await("the DSN for the suppressed recipient").atMost(WAIT)
                .until(() -> mx.messages().stream().filter(m -> m.mailFrom().isEmpty()
                        && text(m).contains(RUN + "-2")).findFirst(), java.util.Optional::isPresent).get();
        assertThat(dsn.recipients()).containsExactly("alice@relay.test");
        assertThat(text(dsn)).contains("Action: failed").contains("Status: 5.1.1")
                .contains("suppressed after a hard bounce at");
        assertThat(rcpts(gone)).as("no RCPT for the suppressed address").isEqualTo(rcpts);

        String demo = keycloak.browserLogin("relay-admin-cli", "demo", "demo-password");
        assertThat(api("DELETE", "/" + enc(gone), demo).statusCode()).isEqualTo(403);
        assertThat(api("DELETE", "/" + enc(gone), null).statusCode()).isEqualTo(401);
        assertThat(api("DELETE", "/" + enc(gone), admin).statusCode()).isEqualTo(204);
        assertThat(api("GET", "/" + enc(gone), admin).statusCode()).isEqualTo(404);

        await("the next message is attempted and delivered").atMost(WAIT).pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    send(RUN + "-3-" + UUID.randomUUID().toString().substring(0, 4), gone);
                    return mx.messages().stream()
                            .anyMatch(m -> m.recipients().contains(gone));
                });
    }

    private static void send(String id, String rcpt) throws Exception {
        byte[] body = ("From: alice@relay.test\r\nSubject: " + id + "\r\nMessage-ID: <" + id + "@relay.test>\r\n\r\n"
                + "hello\r\n").getBytes(StandardCharsets.US_ASCII);
        String envelope = "{\"version\":1,\"messageId\":\"" + id + "\",\"receivedAt\":" + System.currentTimeMillis()
                + ",\"listener\":\"submission\",\"tls\":true,\"identity\":{\"username\":\"alice\",\"subject\":\"s\","
                + "\"email\":\"alice@relay.test\",\"roles\":[],\"groups\":[],\"senders\":[]},"
                + "\"mailFrom\":\"alice@relay.test\",\"recipients\":[\"" + rcpt + "\"],\"smtputf8\":false,"
                + "\"body\":\"7BIT\",\"size\":" + body.length
                + ",\"route\":{\"domain\":\"example.org\",\"kind\":\"MX\",\"port\":0,\"tlsPolicy\":\"none\"},"
                + "\"attempts\":0}";
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(RUN + ".outbound", id + ":mx:example.org", body);
        record.headers().add("relay-envelope", envelope.getBytes(StandardCharsets.UTF_8));
        producer.send(record).get(30, TimeUnit.SECONDS);
    }

    private static HttpResponse<String> api(String method, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + policy.httpPort()
                        + "/api/suppressions" + path)).timeout(Duration.ofSeconds(60))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static long rcpts(String address) {
        return mx.rcptArguments().stream().filter(a -> a.contains("<" + address + ">")).count();
    }

    private static String text(CapturedMessage m) {
        return new String(m.data(), StandardCharsets.UTF_8).replaceAll("\r\n\\s+", " ");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
