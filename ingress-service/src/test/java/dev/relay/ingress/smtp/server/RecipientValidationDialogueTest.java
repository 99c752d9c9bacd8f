package dev.relay.ingress.smtp.server;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.Topics;
import dev.relay.ingress.rules.LiveRules;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import dev.relay.testkit.SmtpTestClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The MX role (the relay listener, unauthenticated) refuses at RCPT what it would otherwise accept and bounce
 * later: mailboxes its local domain's recipient source does not know, and routing syntax hidden in quotes.
 * Rule sets are written to the (test run's own) rules topic the running ingress follows.
 */
@QuarkusTest
@QuarkusTestResource(RelayInfraResource.class)
class RecipientValidationDialogueTest {

    private static final String RULES = """
            {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],%s
             "localRecipients":[{"domain":"example.test","mailboxes":["alice"],"delimiter":"+"}]}""";

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

    private void publish(String json, Predicate<LiveRules> inForce) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                "acks", "all"), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(rulesTopic, "default", json)).get();
        }
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> inForce.test(rules));
    }

    private static boolean knowsAlice(LiveRules rules) {
        return rules.current().rules().ruleSet().localRecipients().stream()
                .anyMatch(r -> r.mailboxes().contains("alice"));
    }

    @Test
    void shouldRefuseUnknownLocalRecipientsAtRcptAndAcceptKnownOnes() throws Exception {
        publish(RULES.formatted(""), RecipientValidationDialogueTest::knowsAlice);
        try (Client c = new Client(server.port(Listener.RELAY))) {
            c.send("EHLO client.example");
            assertThat(c.send("MAIL FROM:<someone@outside.example>")).startsWith("250");
            assertThat(c.send("RCPT TO:<nobody@example.test>"))
                    .startsWith("550 5.1.1 Recipient address rejected: no such user here");
            assertThat(c.send("RCPT TO:<alice@example.test>")).startsWith("250 2.1.5");
            assertThat(c.send("RCPT TO:<Alice+news@Example.TEST>")).startsWith("250 2.1.5");
            assertThat(c.send("RCPT TO:<postmaster@example.test>")).startsWith("250 2.1.5");
            assertThat(c.send("RCPT TO:<\"alice%other.example\"@example.test>")).startsWith("553 5.1.3");
            assertThat(c.send("RCPT TO:<\"other.example!alice\"@example.test>")).startsWith("553 5.1.3");
            assertThat(c.send("RCPT TO:<\"other@example.org\"@example.test>")).startsWith("553 5.1.3");
        }
    }

    @Test
    void shouldRecordInTheEnvelopeWhetherTheClientWasInTheTrustedNetworks() throws Exception {
        publish(RULES.formatted("\"trustedNetworks\":[\"127.0.0.0/8\"],"),
                r -> knowsAlice(r) && !r.current().rules().ruleSet().trustedNetworks().isEmpty());
        assertThat(envelopeOf(send()).trustedNetwork()).isTrue();

        publish(RULES.formatted(""),
                r -> knowsAlice(r) && r.current().rules().ruleSet().trustedNetworks().isEmpty());
        Envelope untrusted = envelopeOf(send());
        assertThat(untrusted.trustedNetwork()).isFalse();
        assertThat(untrusted.vouchedSender()).isFalse();
    }

    private String send() throws IOException {
        try (Client c = new Client(server.port(Listener.RELAY))) {
            c.send("EHLO client.example");
            assertThat(c.send("MAIL FROM:<someone@outside.example>")).startsWith("250");
            assertThat(c.send("RCPT TO:<alice@example.test>")).startsWith("250");
            assertThat(c.send("DATA")).startsWith("354");
            String reply = c.send("Subject: t\r\n\r\nhello\r\n.");
            assertThat(reply).startsWith("250 2.0.0 Ok: queued as ");
            return reply.trim().substring(reply.trim().lastIndexOf(' ') + 1);
        }
    }

    private Envelope envelopeOf(String id) {
        return EnvelopeCodec.decode(InboundRecords.find(bootstrap, id).headers().lastHeader(Topics.ENVELOPE_HEADER)
                .value());
    }
}
