package dev.relay.delivery.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MTA-STS through the running delivery service and the real Kafka broker: an outbound record for a domain with an
 * enforce policy is delivered over verified TLS and its {@code delivered} event says so; one for a domain whose MX
 * the policy does not name is deferred {@code 4.7.5} (a retry, never a bounce) without a connection. Both events
 * carry the TLS decision of their attempt ({@code tlsPolicy}: verify, from mta-sts).
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
@QuarkusTestResource(value = MtaStsWorld.class, restrictToAnnotatedClass = true)
class MtaStsKafkaDeliveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static KafkaTestClient kafka;

    @BeforeAll
    static void start() {
        kafka = new KafkaTestClient(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void anEnforcedDomainIsDeliveredOverVerifiedTlsAndAMismatchedOneIsDeferred() throws Exception {
        String good = newId();
        String bad = newId();
        try (KafkaTestClient.Tail events = kafka.tail(Topics.EVENTS)) {

            kafka.send(outbound(good, "bob@" + MtaStsWorld.ENFORCED));
            kafka.send(outbound(bad, "bob@" + MtaStsWorld.MISMATCHED));

            JsonNode delivered = await().atMost(WAIT).until(() -> event(events, good, "delivered"),
                    Optional::isPresent).get();
            assertThat(delivered.get("remote").asText()).startsWith("mx." + MtaStsWorld.ENFORCED + "[127.0.0.1]");
            assertThat(delivered.get("tls").get("protocol").asText()).startsWith("TLSv1.");
            assertThat(delivered.get("mtaSts").get("mode").asText()).isEqualTo("enforce");
            assertThat(delivered.get("mtaSts").get("result").asText()).isEqualTo("pass");
            assertThat(delivered.get("tlsPolicy").get("policy").asText()).isEqualTo("verify");
            assertThat(delivered.get("tlsPolicy").get("source").asText()).isEqualTo("mta-sts");
            assertThat(delivered.get("tlsPolicy").hasNonNull("dane")).isFalse(); // DNSSEC off: DANE not considered

            JsonNode deferred = await().atMost(WAIT).until(() -> event(events, bad, "deferred"),
                    Optional::isPresent).get();
            assertThat(deferred.get("reason").asText())
                    .startsWith("451 4.7.5 MTA-STS policy of " + MtaStsWorld.MISMATCHED + ": no MX host matches");
            assertThat(deferred.get("tlsPolicy").get("policy").asText()).isEqualTo("verify");
            assertThat(deferred.get("tlsPolicy").get("source").asText()).isEqualTo("mta-sts");
            assertThat(event(events, bad, "bounced")).isEmpty();
        }
    }

    /** From the null sender: a record given up on makes no DSN. */
    private static ProducerRecord<String, byte[]> outbound(String id, String rcpt) {
        String domain = rcpt.substring(rcpt.indexOf('@') + 1);
        byte[] body = ("Subject: mta-sts " + id + "\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII);
        Route route = Route.mx(domain);
        Envelope envelope = new Envelope(Envelope.VERSION, id, System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, null, "", List.of(rcpt), false, "7BIT", body.length, route, 0);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.OUTBOUND, id + ":" + route.hopKey(),
                body);
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

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }
}
