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
import dev.relay.testkit.DnsResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The built-in discard route (the synthetic probe's mail, docs/adr/0022) over real sockets: its recipients are
 * delivered without any network I/O. A decoy server is published as the discard domain's MX and configured as
 * the smarthost, the mailbox route and a static route of the domain, so that any connection or DNS query shows.
 */
class DiscardRouteDeliveryTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));

    private static Vertx vertx;
    private static DnsResponder dns;
    private static ScriptedSmtpServer decoy;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        decoy = new ScriptedSmtpServer().start(InetAddress.getByName("127.0.0.2"), 0);
        dns = DnsResponder.start().mx(Route.DISCARD_DOMAIN, 10, "decoy.example.test")
                .a("decoy.example.test", "127.0.0.2");
    }

    @AfterAll
    static void stop() throws Exception {
        decoy.close();
        dns.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldAcknowledgeDiscardRecipientsAsDeliveredWithoutConnectingOrLookingUpAnything() throws Exception {
        NextHopSpec toDecoy = NextHopSpec.parse("127.0.0.2:" + decoy.port() + ";tls=none;internal");
        MxResolver mx = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2), new TransportMetrics(new SimpleMeterRegistry()), null);
        RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(true), Optional.of(toDecoy),
                Map.of(Route.DISCARD_DOMAIN, toDecoy), Optional.of(toDecoy), decoy.port(),
                new TransportMetrics(new SimpleMeterRegistry()));
        HopDeliverer deliverer = new HopDeliverer(routes, new SmtpClient(vertx, "delivery.test", TIMEOUTS));
        Envelope envelope = new Envelope(Envelope.VERSION, "m1", System.currentTimeMillis(), "192.0.2.10",
                "probe.example", "relay-probe", true, null, "probe@probe.relay.invalid",
                List.of("a@" + Route.DISCARD_DOMAIN, "b@Discard.Relay.Invalid"), false, "7BIT", 10,
                Route.discard(Route.DISCARD_DOMAIN), 0);
        int queriesBefore = dns.log().size();

        List<RecipientResult> results = deliverer.deliver(envelope,
                        "Subject: probe\r\n\r\nprobe\r\n".getBytes(StandardCharsets.US_ASCII))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(results).extracting(RecipientResult::recipient)
                .containsExactly("a@" + Route.DISCARD_DOMAIN, "b@Discard.Relay.Invalid");
        assertThat(results).allSatisfy(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.detail()).startsWith("250 2.0.0");
            assertThat(r.remote()).isNull();
        });
        assertThat(decoy.connections()).as("connections to the decoy").isZero();
        assertThat(dns.log().subList(queriesBefore, dns.log().size())).as("DNS queries").isEmpty();
    }
}
