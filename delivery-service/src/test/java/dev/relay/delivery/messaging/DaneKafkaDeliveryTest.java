package dev.relay.delivery.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Identity;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
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
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * DANE through the whole delivery service: a record on the real {@code relay.outbound.v1} for a recipient whose
 * DNSSEC-signed MX has TLSA records ({@link DaneMxResource}) → MX and TLSA lookups with the AD bit → STARTTLS → the
 * certificate judged against the TLSA records → a {@code delivered} event, or a {@code deferred} one with
 * {@code 4.7.5} when no record matches (the message goes to the retry tier, never out in plain text).
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
@QuarkusTestResource(value = DaneMxResource.class, restrictToAnnotatedClass = true)
class DaneKafkaDeliveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Identity ALICE = new Identity("alice", "sub-1", "alice@relay.test", List.of(), List.of(),
            List.of());

    private static KafkaTestClient kafka;

    @TestHTTPResource("/q/metrics")
    URL metrics;

    @BeforeAll
    static void start() {
        kafka = new KafkaTestClient(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void shouldDeliverWhenTheCertificateMatchesTheTlsaRecordOfTheSecureMx() throws Exception {
        String id = newId();
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {
            kafka.send(outbound(id, "bob+" + id + "@" + DaneMxResource.GOOD));

            JsonNode delivered = await().atMost(WAIT).until(() -> event(events, id, "delivered"), Optional::isPresent)
                    .get();
            assertThat(delivered.get("remote").asText()).startsWith("mx." + DaneMxResource.GOOD + "[127.0.0.1]");
            assertThat(delivered.get("tlsPolicy").get("policy").asText()).isEqualTo("dane");
            assertThat(delivered.get("tlsPolicy").get("source").asText()).isEqualTo("dane");
            assertThat(delivered.get("tlsPolicy").get("dane").asText()).isEqualTo("verified");
        }
        assertThat(get(metrics)).contains("relay_delivery_dane_total{result=\"verified\"}")
                .contains("relay_delivery_tls_policy_total{policy=\"dane\",source=\"dane\"}");
    }

    @Test
    void shouldDeferWith475WhenNoTlsaRecordMatches() throws Exception {
        String id = newId();
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {
            kafka.send(outbound(id, "bob+" + id + "@" + DaneMxResource.BAD));

            JsonNode deferred = await().atMost(WAIT).until(() -> event(events, id, "deferred"), Optional::isPresent)
                    .get();
            assertThat(deferred.get("reason").asText()).startsWith(
                    "451 4.7.5 DANE: no TLSA record matches the certificate of mx." + DaneMxResource.BAD);
            assertThat(deferred.get("tlsPolicy").get("source").asText()).isEqualTo("dane");
            assertThat(deferred.get("tlsPolicy").get("dane").asText()).isEqualTo("failed");
            assertThat(event(events, id, "delivered")).isEmpty();
        }
        assertThat(get(metrics)).contains("relay_delivery_dane_total{result=\"failed\"}");
    }

    private static ProducerRecord<String, byte[]> outbound(String id, String recipient) {
        String domain = recipient.substring(recipient.indexOf('@') + 1);
        byte[] body = ("From: alice@relay.test\r\nTo: " + recipient + "\r\nSubject: DANE " + id + "\r\n\r\nhi\r\n")
                .getBytes(StandardCharsets.UTF_8);
        Envelope envelope = new Envelope(Envelope.VERSION, id, System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, ALICE, "alice@relay.test", List.of(recipient), false, "8BITMIME",
                body.length, Route.mx(domain), 0);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(DaneMxResource.TOPIC,
                id + ":" + envelope.route().hopKey(), body);
        record.headers().add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        return record;
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
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(url.toString())).build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }
}
