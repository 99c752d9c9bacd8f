package dev.relay.ingress.events;

import dev.relay.ingress.smtp.server.SmtpServer;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import dev.relay.testkit.SmtpTestClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Every ingress log line about an accepted message carries its queue id in the MDC key {@code messageId}. */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, restrictToAnnotatedClass = true,
        initArgs = @ResourceArg(name = "keycloak", value = "false"))
class MessageIdLoggingTest {

    @Inject
    SmtpServer server;

    @Test
    void shouldPutTheQueueIdInTheMdcOfTheAcceptedLine() throws Exception {
        String id;
        try (LogCapture capture = LogCapture.start();
             SmtpTestClient c = SmtpTestClient.plain(server.port(Listener.RELAY))) {
            c.reply();
            c.send("EHLO client.example");
            c.send("MAIL FROM:<o1-mdc@outside.example>");
            c.send("RCPT TO:<postmaster@example.test>");
            c.send("DATA");
            String reply = c.send("Subject: mdc\r\n\r\nhello\r\n.");
            assertThat(reply).startsWith("250 2.0.0");
            id = reply.trim().substring(reply.trim().lastIndexOf(' ') + 1);
            String queued = id;
            await().until(() -> capture.lines().stream().anyMatch(l -> l.text().startsWith("accepted " + queued)));
            List<LogCapture.Line> about = capture.lines().stream().filter(l -> l.text().contains(queued)
                    && !l.text().startsWith("session ")).toList();
            assertThat(about).isNotEmpty();
            assertThat(about).allSatisfy(line -> assertThat(line.messageId()).as(line.text()).isEqualTo(queued));
        }
    }
}
