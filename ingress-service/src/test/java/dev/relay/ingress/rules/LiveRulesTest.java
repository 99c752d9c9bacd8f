package dev.relay.ingress.rules;

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
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A rule set written to the rules topic changes what the running ingress refuses at RCPT, without a restart. */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
@QuarkusTestResource(IsolatedRulesTopicResource.class)
class LiveRulesTest {

    @Inject
    SmtpServer server;

    @Inject
    LiveRules rules;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    /** A line-oriented SMTP client: one command, one (possibly multi-line) reply. */
    /** The shared test client, greeted on connect. */
    private static final class Client extends SmtpTestClient {
        Client(int port) throws IOException {
            super(port);
            reply();
        }
    }

    private Client transaction() throws IOException {
        Client c = new Client(server.port(Listener.RELAY));
        c.send("EHLO client.example");
        assertThat(c.send("MAIL FROM:<someone@outside.example>")).startsWith("250");
        return c;
    }

    private String rcpt(String recipient) throws IOException {
        try (Client c = transaction()) {
            return c.send("RCPT TO:<" + recipient + ">");
        }
    }

    @Test
    void shouldRefuseAtRcptBecauseOfARuleChangedThroughTheTopic() throws Exception {
        assertThat(rcpt("postmaster@example.test")).startsWith("250");
        try (Client open = transaction()) {
            assertThat(open.send("RCPT TO:<PostMaster@example.test>")).startsWith("250");

            long before = rules.current().revision();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                    "acks", "all"), new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>(IsolatedRulesTopicResource.TOPIC, "default", """
                        {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                         "recipients":{"deny":["@example.test"]}}""")).get();
            }
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> rcpt("postmaster@example.test").startsWith("554 5.7.1"));
            assertThat(rules.current().revision()).isGreaterThan(before);
            // the session that was open before the change sees it too, at its next RCPT
            assertThat(open.send("RCPT TO:<postmaster@example.test>")).startsWith("554 5.7.1");
        }
    }

    @io.quarkus.test.common.http.TestHTTPResource("/q/metrics")
    java.net.URI metrics;

    @Test
    void shouldExposeTheRevisionInForceAsGauge() throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                "acks", "all"), new StringSerializer(), new StringSerializer())) {
            long offset = producer.send(new ProducerRecord<>(IsolatedRulesTopicResource.TOPIC, "default",
                    "{\"version\":1,\"localDomains\":[\"example.test\"],\"relayRoles\":[\"smtp-relay\"]}"))
                    .get().offset();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> java.util.regex.Pattern.compile("(?m)^relay_rules_revision(\\{[^}]*})? " + offset
                            + "\\.0$").matcher(scrape()).find());
        }
    }

    private String scrape() throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(metrics).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void shouldKeepTheRulesInForceWhenTheTopicGetsAnInvalidRuleSet() throws Exception {
        long before = rules.current().revision();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                "acks", "all"), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(IsolatedRulesTopicResource.TOPIC, "default",
                    "{\"version\":1,\"trustedNetworks\":[\"0.0.0.0/0\"]}")).get();
            // a valid record behind the invalid one proves the follower read past it
            producer.send(new ProducerRecord<>(IsolatedRulesTopicResource.TOPIC, "default",
                    "{\"version\":1,\"localDomains\":[\"example.test\"],\"relayRoles\":[\"smtp-relay\"],"
                            + "\"recipients\":{\"deny\":[\"blocked@example.test\"]}}")).get();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> rules.current().revision() >= before + 2);
        assertThat(rules.current().rules().ruleSet().trustedNetworks()).isEmpty();
        assertThat(rcpt("victim@remote.example")).startsWith("554 5.7.1");
    }
}
