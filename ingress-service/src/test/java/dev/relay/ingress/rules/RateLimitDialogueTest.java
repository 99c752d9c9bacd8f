package dev.relay.ingress.rules;

import dev.relay.common.rules.Count;
import dev.relay.common.rules.Per;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Window;
import dev.relay.common.usage.UsageRecord;
import dev.relay.ingress.smtp.server.SmtpServer;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import dev.relay.testkit.SmtpTestClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Real SMTP dialogues against the ingress with the real broker: once the usage topic (written by policy
 * instances; here by the test, as two instances would) shows a client at its limits, MAIL gets {@code 450 4.7.1}
 * and a RCPT over the recipient limit {@code 452 4.5.3}, naming the limit.
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
@QuarkusTestResource(IsolatedLimitsResource.class)
class RateLimitDialogueTest {

    @Inject
    SmtpServer server;

    @Inject
    LiveRules rules;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "relay.rules.topic")
    String rulesTopic;

    /** The shared test client, greeted on connect. */
    private static final class Client extends SmtpTestClient {
        Client(int port) throws IOException {
            super(port);
            reply();
        }
    }

    private Client helo() throws IOException {
        Client c = new Client(server.port(Listener.RELAY));
        c.send("EHLO client.example");
        return c;
    }

    /** Writes what two policy instances counted, for this hour and the next (so an hour change mid-test is harmless). */
    private void usage(Per per, String key, long messagesEach, long recipientsEach) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                "acks", "all"), new StringSerializer(), new ByteArraySerializer())) {
            long hour = Window.HOUR.bucket(Instant.now());
            for (long bucket = hour; bucket <= hour + 1; bucket++) {
                for (String instance : new String[] {"policy-a", "policy-b"}) {
                    UsageRecord record = UsageRecord.of(instance, new Slot(per, key, Window.HOUR, bucket),
                            new Count(messagesEach, recipientsEach));
                    producer.send(new ProducerRecord<>(IsolatedLimitsResource.USAGE, record.recordKey(),
                            record.toJson())).get();
                }
            }
        }
    }

    /** Stores a rule set in the rules topic the ingress follows and waits until it is in force. */
    private void publishRules(String json) throws Exception {
        long before = rules.current().revision();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                "acks", "all"), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(rulesTopic, "default", json)).get();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> rules.current().revision() > before);
    }

    @Test
    void shouldRefuseMailAndRecipientsOnceTheUsageTopicShowsTheLimitsReached() throws Exception {
        publishRules("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "localRecipients":[{"domain":"example.test","catchAll":true}],
                 "rateLimits":[{"name":"per-client","per":"client-address","messages":{"hour":6}},
                               {"name":"per-domain","per":"sender-domain","recipients":{"hour":3}}]}""");
        try {
            refuseOnceUsageShowsTheLimitsReached();
        } finally {
            // the rules topic is shared with the module's other tests: leave it without rate limits
            publishRules("{\"version\":1,\"localDomains\":[\"example.test\"],\"relayRoles\":[\"smtp-relay\"]}");
        }
    }

    private void refuseOnceUsageShowsTheLimitsReached() throws Exception {

        // the sender domain has used 2 of its 3 recipients this hour (1 on each of two policy instances)
        usage(Per.SENDER_DOMAIN, "busy.example", 1, 1);
        usage(Per.SENDER_DOMAIN, "busy.example", 1, 1); // idempotent: the latest count per instance, not a sum
        try (Client c = helo()) {
            assertThat(c.send("MAIL FROM:<a@busy.example>")).startsWith("250");
            assertThat(c.send("RCPT TO:<postmaster@example.test>")).startsWith("250");
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
                try (Client probe = helo()) {
                    probe.send("MAIL FROM:<b@busy.example>");
                    probe.send("RCPT TO:<one@example.test>");
                    return probe.send("RCPT TO:<two@example.test>").startsWith("452");
                }
            });
            assertThat(c.send("RCPT TO:<sales@example.test>"))
                    .startsWith("452 4.5.3 Rate limit per-domain (3 recipients per hour) reached, try again later");
        }

        // the client address has sent 6 messages this hour (3 on each policy instance)
        try (Client c = helo()) {
            assertThat(c.send("MAIL FROM:<a@quiet.example>")).startsWith("250");
        }
        usage(Per.CLIENT_ADDRESS, "127.0.0.1", 3, 3);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            try (Client c = helo()) {
                assertThat(c.send("MAIL FROM:<a@quiet.example>"))
                        .startsWith("450 4.7.1 Rate limit per-client (6 messages per hour) reached, try again later");
            }
        });
    }
}
