package dev.relay.policy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.suppression.SuppressionCodec;
import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The suppression admin API against the real Keycloak (tokens by password grant, as for the rules API) and the
 * real Kafka topic: what it answers, and what it writes (entries and tombstones) for the delivery workers.
 */
@QuarkusTest
@QuarkusTestResource(value = SuppressionTopicResource.class, restrictToAnnotatedClass = true)
class SuppressionResourceTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/api/suppressions")
    URI api;

    private static String token(String user, String password) {
        return KeycloakServer.shared().browserLogin("relay-admin-cli", user, password);
    }

    private static String admin() {
        return token("relayadmin", "relayadmin-password");
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

    @Test
    void shouldRequireTheAdminPermission() throws Exception {
        assertThat(call("GET", "", null, null).statusCode()).isEqualTo(401);
        assertThat(call("DELETE", "/a@x.example", null, null).statusCode()).isEqualTo(401);
        String demo = token("demo", "demo-password");
        assertThat(call("GET", "", demo, null).statusCode()).isEqualTo(403);
        assertThat(call("POST", "", demo, "{\"address\":\"a@x.example\",\"ttl\":\"1d\"}").statusCode())
                .isEqualTo(403);
        assertThat(call("DELETE", "/a@x.example", demo, null).statusCode()).isEqualTo(403);
    }

    @Test
    void shouldAddShowAndRemoveAnEntryThroughTheTopic() throws Exception {
        String token = admin();
        String address = "Gone+" + id() + "@Example.org";
        String key = address.toLowerCase();
        try (Tail topic = new Tail()) {
            HttpResponse<String> added = call("POST", "", token, "{\"address\":\"" + address
                    + "\",\"ttl\":\"30d\",\"reason\":\"ticket 42\"}");
            assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
            JsonNode entry = JSON.readTree(added.body());
            assertThat(entry.get("address").asText()).isEqualTo(key);
            assertThat(entry.get("source").asText()).isEqualTo("admin");
            assertThat(entry.get("reason").asText()).isEqualTo("ticket 42");

            ConsumerRecord<String, byte[]> written = topic.await(key, 1).get(0);
            SuppressionEntry stored = SuppressionCodec.decode(written.value());
            assertThat(stored.source()).isEqualTo(SuppressionEntry.Source.ADMIN);
            assertThat(Duration.between(stored.since(), stored.until())).isEqualTo(Duration.ofDays(30));

            HttpResponse<String> one = call("GET", "/" + enc(address), token, null);
            assertThat(one.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(one.body()).get("until").asText()).isEqualTo(stored.until().toString());

            assertThat(call("DELETE", "/" + enc(key), token, null).statusCode()).isEqualTo(204);
            ConsumerRecord<String, byte[]> tombstone = topic.await(key, 2).get(1);
            assertThat(tombstone.value()).isNull();
            assertThat(call("GET", "/" + enc(key), token, null).statusCode()).isEqualTo(404);
            assertThat(call("DELETE", "/" + enc(key), token, null).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void shouldAnswer400ToBadInputAndChangeNothing() throws Exception {
        String token = admin();
        String address = "bad+" + id() + "@example.org";
        for (String body : new String[]{
                "{\"address\":\"not an address\",\"ttl\":\"1d\"}",
                "{\"address\":\"nodomain\",\"ttl\":\"1d\"}",
                "{\"address\":\"" + address + "\"}",
                "{\"address\":\"" + address + "\",\"ttl\":\"soon\"}",
                "{\"address\":\"" + address + "\",\"ttl\":\"0s\"}",
                "{\"address\":\"" + address + "\",\"ttl\":\"-P1D\"}",
                "{\"address\":\"" + address + "\",\"ttl\":\"366d\"}",
                "{\"address\":\"" + "x".repeat(300) + "@example.org\",\"ttl\":\"1d\"}",
                "[1,2]", "{not json"}) {
            HttpResponse<String> response = call("POST", "", token, body);
            assertThat(response.statusCode()).as(body).isEqualTo(400);
            assertThat(JSON.readTree(response.body()).get("message").asText()).as(body).isNotBlank();
        }
        assertThat(call("GET", "/" + enc(address), token, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/" + enc("no domain"), token, null).statusCode()).isEqualTo(400);
        assertThat(call("DELETE", "/" + enc("a@@b"), token, null).statusCode()).isEqualTo(400);
    }

    @Test
    void shouldPageWithinBounds() throws Exception {
        String token = admin();
        String tag = id();
        for (int i = 0; i < 7; i++) {
            assertThat(call("POST", "", token, "{\"address\":\"p" + i + "+" + tag + "@example.org\",\"ttl\":\"1h\"}")
                    .statusCode()).isEqualTo(201);
        }
        JsonNode first = JSON.readTree(call("GET", "?address=" + tag + "&size=5", token, null).body());
        assertThat(first.get("total").asLong()).isEqualTo(7);
        assertThat(first.get("items")).hasSize(5);
        assertThat(first.get("items").get(0).get("address").asText()).isEqualTo("p0+" + tag + "@example.org");
        JsonNode second = JSON.readTree(call("GET", "?address=" + tag + "&size=5&page=1", token, null).body());
        assertThat(second.get("items")).hasSize(2);
        assertThat(second.get("items").get(1).get("address").asText()).isEqualTo("p6+" + tag + "@example.org");
        JsonNode beyond = JSON.readTree(call("GET", "?address=" + tag + "&size=5&page=9", token, null).body());
        assertThat(beyond.get("items")).isEmpty();
        for (String q : new String[]{"?size=6", "?size=0", "?page=-1", "?size=x"}) {
            HttpResponse<String> response = call("GET", q, token, null);
            assertThat(response.statusCode()).as(q).isEqualTo(400);
        }
        // the default page size never exceeds the configured maximum (5 in this test)
        assertThat(JSON.readTree(call("GET", "?address=" + tag, token, null).body()).get("items")).hasSize(5);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%2B");
    }

    private static String id() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    /** Reads this run's suppression topic from now on. */
    private static final class Tail implements AutoCloseable {
        private final KafkaConsumer<String, byte[]> consumer;
        private final List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();

        Tail() {
            consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", KafkaBroker.shared().bootstrapServers(),
                    "enable.auto.commit", false), new StringDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = consumer.partitionsFor(SuppressionTopicResource.TOPIC,
                    Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(SuppressionTopicResource.TOPIC, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
        }

        List<ConsumerRecord<String, byte[]>> await(String key, int count) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                List<ConsumerRecord<String, byte[]>> found = seen.stream().filter(r -> key.equals(r.key())).toList();
                if (found.size() >= count) {
                    return found;
                }
            }
            throw new AssertionError("fewer than " + count + " records with key " + key);
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
