package dev.relay.ingress.events;

import dev.relay.ingress.smtp.server.SmtpServer;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import dev.relay.testkit.SmtpTestClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ingress's events on a real broker (issue 17): {@code received} after the {@code 250} with the submission's
 * details, and the refusals of the dialogue, at most 3 per session here and then one summary.
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = EventsResource.class, restrictToAnnotatedClass = true)
class IngressEventsTest {

    @Inject
    SmtpServer server;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "relay.ingress.events.topic")
    String topic;

    @Test
    void shouldWriteReceivedWithTheSubmissionAfterThe250() throws Exception {
        String id;
        try (SmtpTestClient c = SmtpTestClient.plain(server.port(Listener.SUBMISSION))) {
            c.reply();
            c.send("EHLO client.example");
            assertThat(c.startTls()).startsWith("220");
            c.send("EHLO client.example");
            assertThat(c.authPlain("demo", "demo-password")).startsWith("235");
            assertThat(c.send("MAIL FROM:<demo@example.test>")).startsWith("250");
            assertThat(c.send("RCPT TO:<o1-one@example.net>")).startsWith("250");
            assertThat(c.send("RCPT TO:<o1-two@example.net>")).startsWith("250");
            assertThat(c.send("DATA")).startsWith("354");
            String reply = c.send("From: demo@example.test\r\nSubject: received\r\n\r\nhello\r\n.");
            assertThat(reply).startsWith("250 2.0.0");
            id = reply.trim().substring(reply.trim().lastIndexOf(' ') + 1);
            c.send("QUIT");
        }
        String queued = id;
        List<EventRecords.Event> events = EventRecords.read(bootstrap, topic, e -> queued.equals(e.key()),
                found -> found.stream().anyMatch(e -> "received".equals(e.text("type"))));
        assertThat(events).hasSize(1);
        EventRecords.Event received = events.get(0);
        assertThat(received.text("type")).isEqualTo("received");
        assertThat(received.text("messageId")).isEqualTo(id);
        assertThat(received.text("service")).isEqualTo("ingress");
        assertThat(received.text("sender")).isEqualTo("demo@example.test");
        assertThat(received.value().get("recipients")).extracting(com.fasterxml.jackson.databind.JsonNode::asText)
                .containsExactly("o1-one@example.net", "o1-two@example.net");
        assertThat(received.value().get("at").asLong()).isPositive();
        var submission = received.value().get("submission");
        assertThat(submission.get("identity").asText()).isEqualTo("demo");
        assertThat(submission.get("client").asText()).isEqualTo("127.0.0.1");
        assertThat(submission.get("listener").asText()).isEqualTo("submission");
        assertThat(submission.get("size").asLong()).isGreaterThan(40);
        assertThat(submission.get("recipientCount").asInt()).isEqualTo(2);
        assertThat(submission.get("tls").asText()).startsWith("TLSv1.");
    }

    @Test
    void shouldReportRefusalsWithTheRuleAndAtMostThreeAndASummaryPerSession() throws Exception {
        String sender = "o1-flood-" + UUID.randomUUID().toString().substring(0, 8) + "@outside.example";
        try (SmtpTestClient c = SmtpTestClient.plain(server.port(Listener.RELAY))) {
            c.reply();
            c.send("EHLO client.example");
            assertThat(c.send("MAIL FROM:<" + sender + ">")).startsWith("250");
            for (int i = 0; i < 40; i++) {
                assertThat(c.send("RCPT TO:<victim" + i + "@remote.example>")).startsWith("554 5.7.1");
            }
            assertThat(c.send("QUIT")).startsWith("221");
        }
        List<EventRecords.Event> events = EventRecords.read(bootstrap, topic, e -> sender.equals(e.text("sender")),
                found -> found.stream().anyMatch(e -> e.text("reason").contains("not reported one by one")));
        assertThat(events).hasSize(4);
        assertThat(events).allSatisfy(e -> {
            assertThat(e.text("type")).isEqualTo("rejected");
            assertThat(e.text("service")).isEqualTo("ingress");
            assertThat(e.value().get("submission").get("listener").asText()).isEqualTo("relay");
            assertThat(e.value().get("submission").get("client").asText()).isEqualTo("127.0.0.1");
            assertThat(e.value().get("submission").path("identity").isMissingNode()
                    || e.value().get("submission").get("identity").isNull()).as("anonymous").isTrue();
        });
        List<EventRecords.Event> single = events.stream()
                .filter(e -> !e.text("reason").contains("not reported one by one")).toList();
        assertThat(single).hasSize(3);
        for (int i = 0; i < 3; i++) {
            EventRecords.Event refusal = single.get(i);
            assertThat(refusal.value().get("recipients").get(0).asText()).isEqualTo("victim" + i + "@remote.example");
            // "<rule path>: <reply with its enhanced status code>"
            assertThat(refusal.text("reason")).matches("[A-Za-z0-9_.\\[\\]-]+: 554 5\\.7\\.1 .+");
            assertThat(refusal.key()).isEqualTo(single.get(0).key()).isEqualTo(refusal.text("messageId"));
        }
        EventRecords.Event summary = events.stream()
                .filter(e -> e.text("reason").contains("not reported one by one")).findFirst().orElseThrow();
        assertThat(summary.text("reason")).startsWith("37 more refusal(s)");
    }

    @Test
    void shouldGiveTheRefusalsOfATransactionTheQueueIdOfIts250() throws Exception {
        String id;
        try (SmtpTestClient c = SmtpTestClient.plain(server.port(Listener.RELAY))) {
            c.reply();
            c.send("EHLO client.example");
            assertThat(c.send("MAIL FROM:<o1-mixed@outside.example>")).startsWith("250");
            assertThat(c.send("RCPT TO:<o1-victim@remote.example>")).startsWith("554 5.7.1");
            assertThat(c.send("RCPT TO:<postmaster@example.test>")).startsWith("250");
            assertThat(c.send("DATA")).startsWith("354");
            String reply = c.send("Subject: mixed\r\n\r\nx\r\n.");
            assertThat(reply).startsWith("250 2.0.0");
            id = reply.trim().substring(reply.trim().lastIndexOf(' ') + 1);
            c.send("QUIT");
        }
        String queued = id;
        List<EventRecords.Event> events = EventRecords.read(bootstrap, topic, e -> queued.equals(e.key()),
                found -> found.size() >= 2);
        assertThat(events).extracting(e -> e.text("type")).containsExactly("rejected", "received");
        assertThat(events.get(0).value().get("recipients").get(0).asText()).isEqualTo("o1-victim@remote.example");
        assertThat(events.get(1).value().get("recipients").get(0).asText()).isEqualTo("postmaster@example.test");
        assertThat(events.get(1).value().get("submission").get("listener").asText()).isEqualTo("relay");
    }
}
