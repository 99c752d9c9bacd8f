package dev.relay.ingress.events;

import dev.relay.ingress.smtp.server.SmtpServer;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import dev.relay.testkit.SmtpTestClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the events producer cannot keep up (here: its topic has no metadata, so the one events thread waits, with
 * a queue of one behind it), further events are dropped and counted, and every message is still answered
 * {@code 250} once its own record is in Kafka: the reply never waits for an event.
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, restrictToAnnotatedClass = true,
        initArgs = @ResourceArg(name = "keycloak", value = "false"))
@QuarkusTestResource(value = EventsResource.class, restrictToAnnotatedClass = true,
        initArgs = @ResourceArg(name = "mode", value = "saturated"))
class SaturatedEventsTest {

    @Inject
    SmtpServer server;

    @Inject
    MeterRegistry registry;

    @Test
    void shouldDropAndCountEventsInsteadOfQueueingThemOrDelayingThe250() throws Exception {
        double before = dropped();
        int messages = 6;
        try (SmtpTestClient c = SmtpTestClient.plain(server.port(Listener.RELAY))) {
            c.reply();
            c.send("EHLO client.example");
            for (int i = 0; i < messages; i++) {
                assertThat(c.send("MAIL FROM:<o1-saturated@outside.example>")).startsWith("250");
                assertThat(c.send("RCPT TO:<postmaster@example.test>")).startsWith("250");
                assertThat(c.send("DATA")).startsWith("354");
                assertThat(c.send("Subject: saturated " + i + "\r\n\r\nx\r\n.")).startsWith("250 2.0.0");
            }
            c.send("QUIT");
        }
        // one event waits in the producer for metadata, at most one more in the queue: the rest were dropped
        assertThat(dropped() - before).isGreaterThanOrEqualTo(messages - 2);
    }

    private double dropped() {
        Counter counter = registry.find("relay.ingress.events.dropped").tag("reason", "queue-full").counter();
        return counter == null ? 0 : counter.count();
    }
}
