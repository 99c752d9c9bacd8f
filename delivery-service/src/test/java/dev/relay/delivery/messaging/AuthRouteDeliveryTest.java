package dev.relay.delivery.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Identity;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import dev.relay.delivery.transport.SubmissionServer;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A route that names a credential, as the policy service writes it ({@code Route.auth}), through the real Kafka
 * broker into the delivery service, which authenticates at the smarthost (a TLS + AUTH server over a real socket)
 * with the credential from its credentials directory. A refused credential keeps the message: deferred
 * {@code 454 4.7.0}, on the retry tier with its route (and credential name) unchanged, and no secret in Kafka.
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
@QuarkusTestResource(CredentialsDirResource.class)
class AuthRouteDeliveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String FIRST_TIER = "relay.retry.v1.1s";
    private static final Identity ALICE = new Identity("alice", "sub-1", "alice@relay.test", List.of(), List.of(),
            List.of());

    private static SubmissionServer smarthost;
    private static KafkaTestClient kafka;

    @TestHTTPResource("/q/metrics")
    URL metrics;

    @BeforeAll
    static void start() throws Exception {
        Path keys = Files.createTempDirectory("smarthost-tls");
        smarthost = new SubmissionServer().selfSignedTls(keys).user("relay@provider.test", "correct horse").start();
        Path credentials = Path.of(ConfigProvider.getConfig().getValue(CredentialsDirResource.KEY, String.class));
        credential(credentials, "provider", "correct horse");
        credential(credentials, "stale", "last year's password");
        kafka = new KafkaTestClient(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    @AfterAll
    static void stop() throws IOException {
        smarthost.close();
        kafka.close();
    }

    @Test
    void shouldAuthenticateAtTheSmarthostTheRouteNames() throws Exception {
        String id = newId();
        String rcpt = "bob+" + id + "@example.org";
        byte[] body = message(id);
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {

            kafka.send(outbound(id, rcpt, body, route("provider")));

            SubmissionServer.Received received = await().atMost(WAIT).until(() -> smarthost.messages().stream()
                    .filter(m -> m.recipients().contains(rcpt)).findFirst(), Optional::isPresent).get();
            assertThat(received.user()).isEqualTo("relay@provider.test");
            assertThat(received.data()).isEqualTo(body);
            await().atMost(WAIT).until(() -> event(events, id, "delivered"), Optional::isPresent);
        }
        assertThat(get(metrics)).containsPattern(
                "relay_delivery_auth_total\\{[^}]*mechanism=\"plain\",result=\"success\"[^}]*} [1-9]");
    }

    @Test
    void shouldKeepTheMessageQueuedWhenTheSmarthostRefusesTheCredential() throws Exception {
        String id = newId();
        String rcpt = "carol+" + id + "@example.org";
        byte[] body = message(id);
        Route route = route("stale");
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS);
             KafkaTestClient.Tail retry = kafka.tail(FIRST_TIER)) {

            ProducerRecord<String, byte[]> record = outbound(id, rcpt, body, route);
            kafka.send(record);

            JsonNode deferred = await().atMost(WAIT).until(() -> event(events, id, "deferred"), Optional::isPresent)
                    .get();
            assertThat(deferred.get("reason").asText()).startsWith("454 4.7.0 AUTH PLAIN with credential stale")
                    .contains("535 5.7.8").doesNotContain("last year");
            ConsumerRecord<String, byte[]> again = await().atMost(WAIT)
                    .until(() -> retry.withKey(record.key()), list -> !list.isEmpty()).get(0);
            assertThat(again.value()).isEqualTo(body);
            Envelope envelope = EnvelopeCodec.decode(again.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            assertThat(envelope.route()).isEqualTo(route);
            assertThat(new String(again.headers().lastHeader(Topics.ENVELOPE_HEADER).value(), StandardCharsets.UTF_8))
                    .contains("\"auth\":\"stale\"").doesNotContain("last year");
        }
        assertThat(smarthost.messages()).noneMatch(m -> m.recipients().contains(rcpt));
        assertThat(get(metrics)).containsPattern(
                "relay_delivery_auth_total\\{[^}]*mechanism=\"plain\",result=\"failure\"[^}]*} [1-9]");
    }

    private static Route route(String credential) {
        // what the policy's Router makes of a rule-set smarthost {"nextHop": ..., "auth": credential}
        return new Route("example.org", Route.Kind.SMARTHOST, "127.0.0.1", smarthost.port(), "required", credential);
    }

    private static ProducerRecord<String, byte[]> outbound(String id, String rcpt, byte[] body, Route route) {
        Envelope envelope = new Envelope(Envelope.VERSION, id, System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, ALICE, "alice@relay.test", List.of(rcpt), false, "8BITMIME",
                body.length, route, 0);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.OUTBOUND, id + ":" + route.hopKey(),
                body);
        record.headers().add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        return record;
    }

    private static void credential(Path dir, String name, String password) throws IOException {
        Path home = Files.createDirectories(dir.resolve(name));
        Files.writeString(home.resolve("mechanism"), "plain\n");
        Files.writeString(home.resolve("username"), "relay@provider.test\n");
        Files.writeString(home.resolve("password"), password + "\n");
    }

    private static byte[] message(String id) {
        return ("From: alice@relay.test\r\nTo: bob@example.org\r\nSubject: via the smarthost " + id
                + "\r\n\r\nGrüße\r\n.dot line\r\n").getBytes(StandardCharsets.UTF_8);
    }

    private static Optional<JsonNode> event(KafkaTestClient.Tail events, String messageId, String type)
            throws IOException {
        for (ConsumerRecord<String, byte[]> r : events.withKey(messageId)) {
            JsonNode json = JSON.readTree(r.value());
            if (type.equals(json.get("type").asText())) {
                return Optional.of(json);
            }
        }
        return Optional.empty();
    }

    private static String get(URL url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url.toString())).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }
}
