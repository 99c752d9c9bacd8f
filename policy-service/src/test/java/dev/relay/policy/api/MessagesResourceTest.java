package dev.relay.policy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.event.RelayEvent;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The message trace against the real Kafka (events produced to this run's events topic, read by the policy's
 * Kafka Streams application into its store) and the real Keycloak (tokens of users with and without the roles).
 */
@QuarkusTest
@QuarkusTestResource(value = TraceTopicsResource.class, restrictToAnnotatedClass = true)
class MessagesResourceTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASSWORD = "viewer-password-" + UUID.randomUUID();
    private static final List<String> CREATED = new ArrayList<>();

    @TestHTTPResource("/api/messages")
    URI api;

    @AfterAll
    static void removeUsers() {
        CREATED.forEach(path -> KeycloakServer.shared().admin("DELETE", path, null));
    }

    @Test
    void shouldAnswerEachMessagesLifecycleInTimeOrderWithItsStatus() throws Exception {
        String tag = tag();
        Instant t0 = Instant.now().minus(5, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.SECONDS);
        String delivered = id(tag, "D");
        String retried = id(tag, "R");
        String bounced = id(tag, "B");
        // produced out of time order: the trace sorts by each event's time
        produce(event("delivered", delivered, t0.plusMillis(300), "delivery", "a@x.example", "250 2.0.0 ok",
                "mx.x.example").withDelivery(1, new RelayEvent.Tls("TLSv1.3", "TLS_AES_128_GCM_SHA256"), 300));
        produce(received(delivered, t0, "s+" + tag + "@example.test", "a@x.example"));
        produce(event("routed", delivered, t0.plusMillis(100), "policy", "a@x.example", "rule default", null));

        produce(received(retried, t0.plusSeconds(60), "s+" + tag + "@example.test", "b@y.example"));
        produce(event("routed", retried, t0.plusSeconds(60).plusMillis(100), "policy", "b@y.example", "rule d", null));
        produce(event("deferred", retried, t0.plusSeconds(61), "delivery", "b@y.example", "451 4.7.1 try later",
                "mx.y.example").withDelivery(1, null, 1000));
        produce(event("delivered", retried, t0.plusSeconds(121), "delivery", "b@y.example", "250 2.0.0 ok",
                "mx.y.example").withDelivery(2, null, 61000));

        produce(received(bounced, t0.plusSeconds(120), "other+" + tag + "@example.test", "c@z.example"));
        produce(event("routed", bounced, t0.plusSeconds(120).plusMillis(50), "policy", "c@z.example", "rule d", null));
        produce(event("bounced", bounced, t0.plusSeconds(121), "delivery", "c@z.example",
                "550 5.1.1 no such user", "mx.z.example").withDelivery(1, null, 1000));

        String token = viewer();
        JsonNode one = awaitTrace(delivered, token, 3);
        assertThat(one.get("status").asText()).isEqualTo("delivered");
        assertThat(one.get("sender").asText()).isEqualTo("s+" + tag + "@example.test");
        assertThat(one.get("recipients").get(0).asText()).isEqualTo("a@x.example");
        assertThat(types(one)).containsExactly("received", "routed", "delivered");
        JsonNode last = one.get("events").get(2);
        assertThat(last.get("at").asText()).isEqualTo(t0.plusMillis(300).toString());
        assertThat(last.get("service").asText()).isEqualTo("delivery");
        assertThat(last.get("remote").asText()).isEqualTo("mx.x.example");
        assertThat(last.get("reason").asText()).isEqualTo("250 2.0.0 ok");
        assertThat(last.get("tls").get("protocol").asText()).isEqualTo("TLSv1.3");
        assertThat(last.has("messageId")).isFalse();

        JsonNode two = awaitTrace(retried, token, 4);
        assertThat(types(two)).containsExactly("received", "routed", "deferred", "delivered");
        assertThat(two.get("events").get(2).get("attempt").asInt()).isEqualTo(1);
        assertThat(two.get("events").get(3).get("attempt").asInt()).isEqualTo(2);
        assertThat(two.get("status").asText()).isEqualTo("delivered");

        JsonNode three = awaitTrace(bounced, token, 3);
        assertThat(types(three)).containsExactly("received", "routed", "bounced");
        assertThat(three.get("status").asText()).isEqualTo("bounced");
    }

    @Test
    void shouldShowADeferredMessageAsDeferredAndAMixedOneAsPartiallyDelivered() throws Exception {
        String tag = tag();
        Instant t0 = Instant.now().minus(1, ChronoUnit.MINUTES);
        String waiting = id(tag, "W");
        produce(received(waiting, t0, "w@example.test", "a@x.example", "b@y.example"));
        produce(event("routed", waiting, t0.plusMillis(1), "policy", List.of("a@x.example", "b@y.example")));
        produce(event("delivered", waiting, t0.plusMillis(2), "delivery", List.of("a@x.example")));
        produce(event("deferred", waiting, t0.plusMillis(3), "delivery", List.of("b@y.example")));
        String token = viewer();
        assertThat(awaitTrace(waiting, token, 4).get("status").asText()).isEqualTo("deferred");
        produce(event("expired", waiting, t0.plusMillis(4), "delivery", List.of("b@y.example")));
        assertThat(awaitTrace(waiting, token, 5).get("status").asText()).isEqualTo("partially-delivered");
    }

    @Test
    void shouldSearchBySenderRecipientStatusAndTimeWindowInPages() throws Exception {
        String tag = tag();
        String sender = "search+" + tag + "@example.test";
        Instant t0 = Instant.now().minus(8, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.SECONDS);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String id = id(tag, "S" + i);
            ids.add(id);
            Instant at = t0.plusSeconds(60L * i);
            produce(received(id, at, sender, "r" + i + "@x.example"));
            produce(event(i % 2 == 0 ? "delivered" : "bounced", id, at.plusSeconds(1), "delivery",
                    List.of("r" + i + "@x.example")));
        }
        produce(received(id(tag, "other"), t0, "else+" + tag + "@example.test", "r0@x.example"));
        String token = viewer();
        String bySender = "?sender=" + enc(sender.toUpperCase());
        await().atMost(Duration.ofSeconds(60)).until(() -> items(get(bySender, token)).size() == 5);

        // newest first
        assertThat(ids(get(bySender, token))).containsExactly(ids.get(4), ids.get(3), ids.get(2), ids.get(1),
                ids.get(0));
        assertThat(ids(get(bySender + "&status=bounced", token))).containsExactly(ids.get(3), ids.get(1));
        assertThat(ids(get(bySender + "&recipient=R2@X.EXAMPLE", token))).containsExactly(ids.get(2));
        assertThat(ids(get("?recipient=r0@x.example&sender=" + enc("else+" + tag + "@example.test"), token)))
                .containsExactly(id(tag, "other"));
        // from inclusive, to exclusive, on the first event
        assertThat(ids(get(bySender + "&from=" + t0.plusSeconds(60) + "&to=" + t0.plusSeconds(180), token)))
                .containsExactly(ids.get(2), ids.get(1));
        JsonNode summary = items(get(bySender + "&status=delivered&limit=1", token)).get(0);
        assertThat(summary.get("status").asText()).isEqualTo("delivered");
        assertThat(summary.get("at").asText()).isEqualTo(t0.plusSeconds(240).toString());
        assertThat(summary.get("events").asInt()).isEqualTo(2);

        // paging: two at a time until no next cursor
        List<String> paged = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonNode page = JSON.readTree(get(bySender + "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
                    token).body());
            page.get("items").forEach(item -> paged.add(item.get("id").asText()));
            cursor = page.hasNonNull("next") ? page.get("next").asText() : null;
            pages++;
        } while (cursor != null && pages < 10);
        assertThat(pages).isEqualTo(3);
        assertThat(paged).containsExactly(ids.get(4), ids.get(3), ids.get(2), ids.get(1), ids.get(0));
    }

    @Test
    void shouldAnswer400ToBadParametersAnd404ToAnUnknownId() throws Exception {
        String token = viewer();
        for (String query : new String[]{"?limit=0", "?limit=21", "?limit=ten", "?status=lost",
                "?from=yesterday", "?to=2026-13-01T00:00:00Z",
                "?from=2026-12-03T10:00:00Z&to=2026-12-03T09:00:00Z", "?cursor=not-a-cursor",
                "?cursor=" + enc("%%%"), "?sender=" + "x".repeat(400)}) {
            HttpResponse<String> response = get(query, token);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            assertThat(JSON.readTree(response.body()).get("message").asText()).as(query).isNotBlank();
        }
        HttpResponse<String> malformed = get("/" + enc("not an id!"), token);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(malformed.body()).get("message").asText()).contains("queue id");
        HttpResponse<String> unknown = get("/" + id(tag(), "none"), token);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("message").asText()).contains("no trace");
    }

    @Test
    void shouldRefuseCallersWithoutATokenOrWithoutATraceRole() throws Exception {
        String id = id(tag(), "A");
        produce(received(id, Instant.now(), "auth@example.test", "a@x.example"));
        assertThat(get("/" + id, null).statusCode()).isEqualTo(401);
        assertThat(get("", null).statusCode()).isEqualTo(401);
        String demo = KeycloakServer.shared().browserLogin("relay-admin-cli", "demo", "demo-password");
        assertThat(get("/" + id, demo).statusCode()).isEqualTo(403);
        assertThat(get("", demo).statusCode()).isEqualTo(403);
        awaitTrace(id, viewer(), 1);
        String operator = token(user("relay-operator"));
        assertThat(get("/" + id, operator).statusCode()).isEqualTo(200);
        String admin = KeycloakServer.shared().browserLogin("relay-admin-cli", "relayadmin", "relayadmin-password");
        assertThat(get("/" + id, admin).statusCode()).isEqualTo(200);
        assertThat(get("", admin).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldKeepAtMostMaxEventsAndSayHowManyWereLeftOut() throws Exception {
        String id = id(tag(), "T");
        Instant t0 = Instant.now().minus(2, ChronoUnit.MINUTES);
        produce(received(id, t0, "many@example.test", "a@x.example"));
        for (int i = 1; i <= 6; i++) {
            produce(event("deferred", id, t0.plusSeconds(i), "delivery", List.of("a@x.example")));
        }
        produce(event("delivered", id, t0.plusSeconds(7), "delivery", List.of("a@x.example")));
        JsonNode trace = awaitTrace(id, viewer(), TraceTopicsResource.MAX_EVENTS + 1);
        assertThat(types(trace)).containsExactly("received", "deferred", "deferred", "deferred", "deferred",
                "truncated");
        assertThat(trace.get("events").get(5).get("dropped").asInt()).isEqualTo(3);
        // the status counts the events that were left out
        assertThat(trace.get("status").asText()).isEqualTo("delivered");
    }

    @Test
    void shouldRemoveATraceOnceItsLatestEventIsOlderThanTheRetention() throws Exception {
        String id = id(tag(), "O");
        // eight seconds before the retention's end
        Instant old = Instant.now().minus(TraceTopicsResource.RETENTION).plusSeconds(8);
        produce(received(id, old, "old@example.test", "a@x.example"));
        String token = viewer();
        awaitTrace(id, token, 1);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> get("/" + id, token).statusCode() == 404);
        // an event already older than the retention is not taken in
        String older = id(tag(), "P");
        produce(received(older, Instant.now().minus(TraceTopicsResource.RETENTION).minusSeconds(1),
                "old@example.test", "a@x.example"));
        String marker = id(tag(), "Q");
        produce(received(marker, Instant.now(), "old@example.test", "a@x.example"));
        awaitTrace(marker, token, 1);
        assertThat(get("/" + older, token).statusCode()).isEqualTo(404);
    }

    // --- helpers

    private JsonNode awaitTrace(String id, String token, int events) {
        JsonNode[] found = new JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> response = get("/" + id, token);
            if (response.statusCode() != 200) {
                return false;
            }
            found[0] = JSON.readTree(response.body());
            return found[0].get("events").size() >= events;
        });
        return found[0];
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api + path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> types(JsonNode trace) {
        List<String> types = new ArrayList<>();
        trace.get("events").forEach(e -> types.add(e.get("type").asText()));
        return types;
    }

    private static JsonNode items(HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body()).get("items");
    }

    private static List<String> ids(HttpResponse<String> response) throws Exception {
        List<String> ids = new ArrayList<>();
        items(response).forEach(item -> ids.add(item.get("id").asText()));
        return ids;
    }

    private static RelayEvent received(String id, Instant at, String sender, String... recipients) {
        return new RelayEvent("received", id, at.toEpochMilli(), "ingress", List.of(recipients), null, null)
                .withSubmission(sender, new RelayEvent.Submission("demo", "127.0.0.1", "submission", 100L,
                        recipients.length, "TLSv1.3"));
    }

    private static RelayEvent event(String type, String id, Instant at, String service, String recipient,
                                    String reason, String remote) {
        return new RelayEvent(type, id, at.toEpochMilli(), service, List.of(recipient), reason, remote);
    }

    private static RelayEvent event(String type, String id, Instant at, String service, List<String> recipients) {
        return new RelayEvent(type, id, at.toEpochMilli(), service, recipients, null, null);
    }

    private static void produce(RelayEvent event) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                KafkaBroker.shared().bootstrapServers(), "acks", "all"), new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(TraceTopicsResource.EVENTS, event.messageId(), event.toJson())).get();
        }
    }

    /** A token of a new user holding the realm role relay-viewer (and no other relay role). */
    private static String viewer() {
        return token(viewerName());
    }

    private static String viewerName;

    private static synchronized String viewerName() {
        if (viewerName == null) {
            viewerName = user("relay-viewer");
        }
        return viewerName;
    }

    private static String token(String user) {
        return KeycloakServer.shared().browserLogin("relay-admin-cli", user, PASSWORD);
    }

    /** Creates a user with this realm role; returns its username. */
    private static String user(String role) {
        KeycloakServer keycloak = KeycloakServer.shared();
        String name = "o2-" + UUID.randomUUID().toString().substring(0, 8);
        String user = "{\"username\":\"" + name + "\",\"enabled\":true,\"email\":\"" + name + "@example.test\","
                + "\"emailVerified\":true,\"firstName\":\"Trace\",\"lastName\":\"Reader\",\"credentials\":[{\"type\":"
                + "\"password\",\"value\":\"" + PASSWORD + "\",\"temporary\":false}]}";
        HttpResponse<String> created = keycloak.admin("POST", "/users", user);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String location = created.headers().firstValue("Location").orElseThrow();
        String path = location.substring(location.indexOf("/users/"));
        CREATED.add(path);
        HttpResponse<String> representation = keycloak.admin("GET", "/roles/" + role, null);
        assertThat(representation.statusCode()).as(representation.body()).isEqualTo(200);
        HttpResponse<String> mapped = keycloak.admin("POST", path + "/role-mappings/realm",
                "[" + representation.body() + "]");
        assertThat(mapped.statusCode()).as(mapped.body()).isEqualTo(204);
        return name;
    }

    private static String tag() {
        return UUID.randomUUID().toString().substring(0, 8).toUpperCase();
    }

    private static String id(String tag, String suffix) {
        return "T" + tag + suffix;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
