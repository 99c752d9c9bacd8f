package dev.relay.policy.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.relay.common.event.RelayEvent;
import dev.relay.policy.consume.IsolatedTopicsResource;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Webhooks against the real Kafka and Keycloak, with a real HTTP receiver on port 0 in this test: subscriptions
 * through the API (401, 403, 400), every event of a message POSTed with a valid signature, retries through the
 * retry topic, dead letters.
 */
@QuarkusTest
@QuarkusTestResource(value = WebhookTopicsResource.class, restrictToAnnotatedClass = true)
class WebhookTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "a-secret-of-the-test-" + UUID.randomUUID();

    @TestHTTPResource("/api/webhooks")
    URI api;

    private HttpServer receiver;
    /** Path -> bodies received with a valid signature. */
    private final Map<String, List<String>> received = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicInteger badSignatures = new AtomicInteger();
    private final Map<String, AtomicInteger> calls = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeEach
    void startReceiver() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            String timestamp = exchange.getRequestHeaders().getFirst("Relay-Webhook-Timestamp");
            String signature = exchange.getRequestHeaders().getFirst("Relay-Webhook-Signature");
            String id = exchange.getRequestHeaders().getFirst("Relay-Webhook-Id");
            boolean valid = timestamp != null && id != null
                    && WebhookSigner.signature(SECRET, Long.parseLong(timestamp), body).equals(signature)
                    && signature.matches("sha256=[0-9a-f]{64}");
            if (!valid) {
                badSignatures.incrementAndGet();
            }
            int call = calls.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            int status = switch (path) {
                case "/flaky" -> call <= 2 ? 503 : 200;
                case "/down" -> 500;
                case "/gone" -> 410;
                default -> 200;
            };
            if (status == 200 && valid) {
                received.computeIfAbsent(path, p -> new CopyOnWriteArrayList<>())
                        .add(new String(body, StandardCharsets.UTF_8));
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
    }

    @AfterEach
    void stopReceiver() throws Exception {
        receiver.stop(0);
        String token = admin();
        for (JsonNode sub : JSON.readTree(call("GET", "", token, null).body())) {
            call("DELETE", "/" + sub.get("id").asText(), token, null);
        }
    }

    @Test
    void shouldRequireTheAdminRole() throws Exception {
        assertThat(call("GET", "", null, null).statusCode()).isEqualTo(401);
        assertThat(call("POST", "", null, body("/ok", null)).statusCode()).isEqualTo(401);
        String demo = KeycloakServer.shared().browserLogin("relay-admin-cli", "demo", "demo-password");
        assertThat(call("GET", "", demo, null).statusCode()).isEqualTo(403);
        assertThat(call("POST", "", demo, body("/ok", null)).statusCode()).isEqualTo(403);
        assertThat(call("DELETE", "/x", demo, null).statusCode()).isEqualTo(403);
        assertThat(call("GET", "/x/dead-letters", demo, null).statusCode()).isEqualTo(403);
    }

    @Test
    void shouldAnswer400ToBadInputAndNeverShowTheSecret() throws Exception {
        String token = admin();
        for (String bad : new String[]{
                "{not json", "[1]", "{\"events\":[\"all\"],\"secret\":\"" + SECRET + "\"}",
                "{\"url\":\"ftp://example.org/x\",\"secret\":\"" + SECRET + "\"}",
                "{\"url\":\"https://\",\"secret\":\"" + SECRET + "\"}",
                "{\"url\":\"https://example.org/x\",\"events\":[\"exploded\"],\"secret\":\"" + SECRET + "\"}",
                "{\"url\":\"https://example.org/x\",\"events\":\"delivered\",\"secret\":\"" + SECRET + "\"}",
                "{\"url\":\"https://example.org/x\"}",
                "{\"url\":\"https://example.org/x\",\"secret\":\"\"}",
                "{\"url\":\"https://example.org/x\",\"secret\":\"short\"}"}) {
            HttpResponse<String> response = call("POST", "", token, bad);
            assertThat(response.statusCode()).as(bad).isEqualTo(400);
            assertThat(JSON.readTree(response.body()).get("message").asText()).as(bad).isNotBlank();
        }
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> created = call("POST", "", token, body("/ok", "[\"delivered\"]"));
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(created.body()).doesNotContain(SECRET).doesNotContain("secret");
        }
        HttpResponse<String> beyond = call("POST", "", token, body("/ok", null));
        assertThat(beyond.statusCode()).isEqualTo(400);
        assertThat(beyond.body()).contains("too many");
        HttpResponse<String> list = call("GET", "", token, null);
        assertThat(JSON.readTree(list.body())).hasSize(4);
        assertThat(list.body()).doesNotContain(SECRET).doesNotContain("secret");
        assertThat(call("DELETE", "/nope", token, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/nope/dead-letters", token, null).statusCode()).isEqualTo(404);
    }

    @Test
    void shouldPostEveryEventOfAMessageSigned() throws Exception {
        String token = admin();
        HttpResponse<String> created = call("POST", "", token, body("/ok", null));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = JSON.readTree(created.body()).get("id").asText();
        assertThat(JSON.readTree(created.body()).get("events").get(0).asText()).isEqualTo("all");
        awaitDispatcher();
        String messageId = "W" + UUID.randomUUID();
        List<String> types = List.of("received", "routed", "delivered");
        produceEvents(messageId, types);
        await(() -> types.stream().allMatch(t -> receivedOf("/ok", messageId).contains(t)));
        assertThat(badSignatures).hasValue(0);
        assertThat(call("GET", "/" + id + "/dead-letters", token, null).body()).isEqualTo("[]");
    }

    @Test
    void shouldRetryThroughKafkaUntilTheReceiverAnswers() throws Exception {
        String token = admin();
        assertThat(call("POST", "", token, body("/flaky", "[\"delivered\"]")).statusCode()).isEqualTo(201);
        awaitDispatcher();
        String messageId = "W" + UUID.randomUUID();
        produceEvents(messageId, List.of("received", "delivered"));
        await(() -> receivedOf("/flaky", messageId).contains("delivered"));
        assertThat(calls.get("/flaky").get()).isEqualTo(3);
        assertThat(receivedOf("/flaky", messageId)).containsExactly("delivered");
        assertThat(badSignatures).hasValue(0);
    }

    @Test
    void shouldDeadLetterWhatNeverSucceeds() throws Exception {
        String token = admin();
        HttpResponse<String> down = call("POST", "", token, body("/down", "[\"bounced\"]"));
        HttpResponse<String> gone = call("POST", "", token, body("/gone", "[\"bounced\"]"));
        String downId = JSON.readTree(down.body()).get("id").asText();
        String goneId = JSON.readTree(gone.body()).get("id").asText();
        awaitDispatcher();
        String messageId = "W" + UUID.randomUUID();
        produceEvents(messageId, List.of("bounced"));
        await(() -> deadLetters(downId).size() == 1 && deadLetters(goneId).size() == 1);
        JsonNode downLetter = deadLetters(downId).get(0);
        assertThat(downLetter.get("attempts").asInt()).isEqualTo(3);
        assertThat(downLetter.get("lastError").asText()).isEqualTo("HTTP 500");
        assertThat(downLetter.get("event").get("messageId").asText()).isEqualTo(messageId);
        JsonNode goneLetter = deadLetters(goneId).get(0);
        assertThat(goneLetter.get("attempts").asInt()).as("a 4xx other than 429 is not retried").isEqualTo(1);
        assertThat(goneLetter.get("lastError").asText()).isEqualTo("HTTP 410");
        assertThat(calls.get("/down").get()).isEqualTo(3);
        assertThat(calls.get("/gone").get()).isEqualTo(1);
    }

    private List<JsonNode> deadLetters(String id) {
        try {
            JsonNode letters = JSON.readTree(call("GET", "/" + id + "/dead-letters", admin(), null).body());
            List<JsonNode> list = new java.util.ArrayList<>();
            letters.forEach(list::add);
            return list;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> receivedOf(String path, String messageId) {
        return received.getOrDefault(path, List.of()).stream().map(b -> {
            try {
                return JSON.readTree(b);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }).filter(e -> messageId.equals(e.get("messageId").asText())).map(e -> e.get("type").asText()).toList();
    }

    private String body(String path, String events) {
        return "{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort() + path + "\","
                + (events == null ? "" : "\"events\":" + events + ",") + "\"secret\":\"" + SECRET + "\"}";
    }

    private static String admin() {
        return KeycloakServer.shared().browserLogin("relay-admin-cli", "relayadmin", "relayadmin-password");
    }

    private HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The dispatcher starts at the end of the events topic: wait until its group has pinned its start position on
     * every partition (it commits it on assignment).
     */
    private static void awaitDispatcher() throws Exception {
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers",
                KafkaBroker.shared().bootstrapServers()))) {
            await(() -> {
                try {
                    return admin.listConsumerGroupOffsets(WebhookTopicsResource.GROUP).partitionsToOffsetAndMetadata()
                            .get(10, TimeUnit.SECONDS).size() == 3;
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    private static void produceEvents(String messageId, List<String> types) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                KafkaBroker.shared().bootstrapServers(), "acks", "all"), new StringSerializer(),
                new ByteArraySerializer())) {
            long at = System.currentTimeMillis();
            for (String type : types) {
                RelayEvent event = new RelayEvent(type, messageId, at++, "policy", List.of("rcpt@example.org"),
                        "test", null);
                producer.send(new ProducerRecord<>(IsolatedTopicsResource.PREFIX + "events", messageId,
                        event.toJson())).get();
            }
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(200);
        }
        assertThat(condition.getAsBoolean()).as("condition met within 60 s").isTrue();
    }
}
