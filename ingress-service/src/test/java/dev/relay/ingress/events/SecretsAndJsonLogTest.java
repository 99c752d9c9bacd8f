package dev.relay.ingress.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.ingress.smtp.server.SmtpServer;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import dev.relay.testkit.SmtpTestClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With DEBUG logging and the JSON switch on: no credential (the AUTH password, in clear or as the SASL response)
 * and no message body reaches any ingress log line of an AUTH + DATA session, and the JSON console lines carry the
 * message id as a field.
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, restrictToAnnotatedClass = true)
@QuarkusTestResource(value = EventsResource.class, restrictToAnnotatedClass = true,
        initArgs = @ResourceArg(name = "mode", value = "debug-json"))
class SecretsAndJsonLogTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    SmtpServer server;

    @Test
    void shouldLogNeitherCredentialsNorBodiesAndPrintTheMessageIdAsAJsonField() throws Exception {
        String body = "o1-body-" + UUID.randomUUID();
        String plain = Base64.getEncoder().encodeToString("\0demo\0demo-password".getBytes(StandardCharsets.UTF_8));
        String login = Base64.getEncoder().encodeToString("demo-password".getBytes(StandardCharsets.UTF_8));
        String id;
        try (LogCapture capture = LogCapture.start()) {
            try (SmtpTestClient c = SmtpTestClient.plain(server.port(Listener.SUBMISSION))) {
                c.reply();
                c.send("EHLO client.example");
                c.startTls();
                c.send("EHLO client.example");
                assertThat(c.authPlain("demo", "demo-password")).startsWith("235");
                c.send("MAIL FROM:<demo@example.test>");
                c.send("RCPT TO:<o1-json@example.net>");
                c.send("DATA");
                String reply = c.send("From: demo@example.test\r\nSubject: " + body + "\r\n\r\n" + body + "\r\n.");
                assertThat(reply).startsWith("250 2.0.0");
                id = reply.trim().substring(reply.trim().lastIndexOf(' ') + 1);
                c.send("QUIT");
            }
            try (SmtpTestClient c = SmtpTestClient.plain(server.port(Listener.SUBMISSION))) {
                c.reply();
                c.send("EHLO client.example");
                c.startTls();
                c.send("EHLO client.example");
                assertThat(c.authLogin("demo", "demo-password")).startsWith("235");
                c.send("QUIT");
            }
            String queued = id;
            await().until(() -> capture.lines().stream().anyMatch(l -> l.text().startsWith("session ")
                    && l.text().contains(queued)));
            List<LogCapture.Line> lines = capture.lines();
            assertThat(lines).as("DEBUG lines were captured").anyMatch(l -> l.level().intValue() < 800);
            for (LogCapture.Line line : lines) {
                assertThat(line.text()).as(line.category())
                        .doesNotContain("demo-password", plain, login, body);
                if (line.json() != null) {
                    assertThat(line.json()).doesNotContain("demo-password", plain, login, body);
                }
            }
            LogCapture.Line accepted = lines.stream().filter(l -> l.text().startsWith("accepted " + queued))
                    .findFirst().orElseThrow();
            assertThat(accepted.json()).as("the console formats JSON").isNotNull();
            JsonNode json = JSON.readTree(accepted.json());
            assertThat(json.get("message").asText()).startsWith("accepted " + queued);
            assertThat(json.get("mdc").get("messageId").asText()).isEqualTo(queued);
        }
    }
}
