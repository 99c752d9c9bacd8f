package dev.relay.delivery;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.DnsServers;
import dev.relay.delivery.mx.MxResolver;
import dev.relay.delivery.mx.NextHopSpec;
import dev.relay.delivery.mx.RouteResolver;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.transport.ScriptedSmtpServer;
import dev.relay.delivery.transport.SmtpClient;
import dev.relay.delivery.transport.SmtpTimeouts;
import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.DnsResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mail for a local domain (the policy's LOCAL route, issue 13) over real sockets: it goes to the mailbox route,
 * never to the domain's MX, which is Relay itself. The testkit's DNS responder publishes that MX (pointing at a
 * decoy server on 127.0.0.2) and logs every query, so the tests can show that no MX was looked up at all.
 */
class LocalRouteDeliveryTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));

    private static Vertx vertx;
    private static DnsResponder dns;
    private static SmtpClient smtp;
    private static MxResolver mx;
    private CaptureMx mailbox;
    private ScriptedSmtpServer decoy;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        // the local domain's MX is the relay itself (here: a decoy that must never be contacted)
        dns = DnsResponder.start().mx("example.test", 10, "relay.example.test").a("relay.example.test", "127.0.0.2");
        smtp = new SmtpClient(vertx, "delivery.test", TIMEOUTS);
        mx = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())), Duration.ofSeconds(2),
                new TransportMetrics(new SimpleMeterRegistry()), null);
    }

    @AfterAll
    static void stop() throws Exception {
        dns.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stopServers() throws IOException {
        if (mailbox != null) {
            mailbox.close();
        }
        if (decoy != null) {
            decoy.close();
        }
    }

    @Test
    void shouldDeliverLocalMailToTheMailboxRouteWithoutLookingUpTheMx() throws Exception {
        mailbox = CaptureMx.start(InetAddress.getByName("127.0.0.1"), 0, null);
        decoy = new ScriptedSmtpServer().start(InetAddress.getByName("127.0.0.2"), 0);
        int queriesBefore = dns.log().size();
        RouteResolver routes = resolver(Optional.of(NextHopSpec.parse("127.0.0.1:" + mailbox.port()
                + ";tls=none;internal")), Map.of(), new TransportMetrics(new SimpleMeterRegistry()));

        List<RecipientResult> results = deliver(routes, "alice@example.test", "bob@EXAMPLE.test");

        assertThat(results).hasSize(2).allSatisfy(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).isEqualTo("127.0.0.1[127.0.0.1]:" + mailbox.port());
        });
        assertThat(mailbox.awaitMessages(1, Duration.ofSeconds(10))).singleElement()
                .extracting(CapturedMessage::recipients).isEqualTo(List.of("alice@example.test", "bob@EXAMPLE.test"));
        assertThat(decoy.connections()).as("the local domain's MX (the relay itself)").isZero();
        assertThat(dns.log().subList(queriesBefore, dns.log().size())).as("DNS queries").isEmpty();
    }

    @Test
    void shouldDeferLocalMailWith435WhenNoMailboxRouteIsConfiguredAndNeverLookUpTheMx() throws Exception {
        decoy = new ScriptedSmtpServer().start(InetAddress.getByName("127.0.0.2"), 0);
        int queriesBefore = dns.log().size();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // the guard would even let the MX's private address through: only the route kind keeps the mail off it
        RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(true), Optional.empty(), Map.of(),
                Optional.empty(), decoy.port(), new TransportMetrics(registry));

        List<RecipientResult> results = deliver(routes, "alice@example.test");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).startsWith("451 4.3.5 no mailbox route for local domain example.test")
                    .contains("relay.delivery.mailbox-route");
            assertThat(r.remote()).isNull();
        });
        assertThat(decoy.connections()).isZero();
        assertThat(dns.log().subList(queriesBefore, dns.log().size())).as("DNS queries").isEmpty();
        assertThat(registry.get(TransportMetrics.LOCAL_UNROUTED).counter().count()).isEqualTo(1);
    }

    @Test
    void shouldPreferTheSmarthostAndTheRoutesOverTheMailboxRoute() throws Exception {
        mailbox = CaptureMx.start(InetAddress.getByName("127.0.0.1"), 0, null);
        decoy = new ScriptedSmtpServer().start(InetAddress.getByName("127.0.0.2"), 0);
        Optional<NextHopSpec> mailboxRoute = Optional.of(NextHopSpec.parse("127.0.0.1:" + mailbox.port()
                + ";tls=none;internal"));
        NextHopSpec other = NextHopSpec.parse("127.0.0.2:" + decoy.port() + ";tls=none;internal");
        TransportMetrics metrics = new TransportMetrics(new SimpleMeterRegistry());

        RouteResolver routed = resolver(mailboxRoute, Map.of("example.test", other), metrics);
        RouteResolver smarthost = new RouteResolver(vertx, mx, DestinationGuard.strict(), Optional.of(other),
                Map.of(), mailboxRoute, 25, metrics);

        for (RouteResolver routes : List.of(routed, smarthost)) {
            assertThat(deliver(routes, "alice@example.test")).singleElement().satisfies(r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
                assertThat(r.remote()).isEqualTo("127.0.0.2[127.0.0.2]:" + decoy.port());
            });
        }
        assertThat(mailbox.messages()).isEmpty();
    }

    private static RouteResolver resolver(Optional<NextHopSpec> mailboxRoute, Map<String, NextHopSpec> routes,
                                          TransportMetrics metrics) {
        return new RouteResolver(vertx, mx, DestinationGuard.strict(), Optional.empty(), routes, mailboxRoute, 25,
                metrics);
    }

    private static List<RecipientResult> deliver(RouteResolver routes, String... recipients) throws Exception {
        HopDeliverer deliverer = new HopDeliverer(routes, smtp);
        String domain = recipients[0].substring(recipients[0].indexOf('@') + 1).toLowerCase();
        Envelope envelope = new Envelope(Envelope.VERSION, "m1", System.currentTimeMillis(), "192.0.2.10",
                "mx.sender.example", "relay", false, null, "someone@sender.example", List.of(recipients), false,
                "7BIT", 10, Route.local(domain), 0);
        byte[] data = "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);
        return deliverer.deliver(envelope, data).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
