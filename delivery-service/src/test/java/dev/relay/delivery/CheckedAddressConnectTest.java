package dev.relay.delivery;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.DnsServers;
import dev.relay.delivery.mx.MxResolver;
import dev.relay.delivery.mx.RouteResolver;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.transport.OutboundMessage;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.transport.ScriptedSmtpServer;
import dev.relay.delivery.transport.SmtpClient;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.SmtpTimeouts;
import dev.relay.delivery.transport.TlsPolicy;
import dev.relay.testkit.DnsResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.dns.AddressResolverOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #12 item 5: the connection goes to exactly the address the destination guard checked. Vert.x's own
 * resolver is pointed at the same {@link DnsResponder} as the MX resolver, so any second lookup of a name at
 * connect time would be seen (and would be answered differently: DNS rebinding to a second server).
 */
class CheckedAddressConnectTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));

    private DnsResponder dns;
    private Vertx vertx;
    private ScriptedSmtpServer checked;
    private ScriptedSmtpServer rebound;
    private int port;

    @BeforeEach
    void start() throws IOException {
        dns = DnsResponder.start()
                .a("f00d.cafe", "127.0.0.1")
                .mx("rebind.example", 10, "mx.rebind.example").rebind("mx.rebind.example", "127.0.0.1", "127.0.0.2");
        vertx = Vertx.vertx(new VertxOptions().setAddressResolverOptions(new AddressResolverOptions()
                .addServer(dns.address()).setHostsValue(io.vertx.core.buffer.Buffer.buffer(""))
                .setCacheMaxTimeToLive(0).setOptResourceEnabled(false)));
        port = freePort();
        checked = new ScriptedSmtpServer().start(InetAddress.getByName("127.0.0.1"), port);
        rebound = new ScriptedSmtpServer().start(InetAddress.getByName("127.0.0.2"), port);
    }

    @AfterEach
    void stop() throws Exception {
        checked.close();
        rebound.close();
        dns.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Before: the target's address text went to Vert.x as a host name and was resolved at connect time. */
    @Test
    void shouldNeverResolveANameAtConnectTime() throws Exception {
        SmtpClient smtp = new SmtpClient(vertx, "delivery.test", TIMEOUTS);
        OutboundMessage message = new OutboundMessage("m1", "alice@relay.test", List.of("bob@f00d.cafe"),
                "Subject: hi\r\n\r\nhi\r\n".getBytes(StandardCharsets.US_ASCII), false, false, null);

        List<RecipientResult> results = smtp.deliver(
                List.of(new SmtpTarget("f00d.cafe", "f00d.cafe", port, TlsPolicy.NONE)), message)
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).contains("not an IP address");
        });
        assertThat(dns.queries("f00d.cafe")).isZero();
        assertThat(checked.connections()).isZero();
        smtp.close();
    }

    @Test
    void shouldConnectToTheCheckedAddressWhenDnsAnswersDifferentlyTheSecondTime() throws Exception {
        SmtpClient smtp = new SmtpClient(vertx, "delivery.test", TIMEOUTS);
        MxResolver mx = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2), new TransportMetrics(new SimpleMeterRegistry()), null);
        RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(true), Optional.empty(), Map.of(),
                port);
        Envelope envelope = new Envelope(Envelope.VERSION, "m2", System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, null, "alice@relay.test", List.of("bob@rebind.example"), false,
                "8BITMIME", 10, Route.mx("rebind.example"), 0);

        List<RecipientResult> results = new HopDeliverer(routes, smtp)
                .deliver(envelope, "Subject: hi\r\n\r\nhi\r\n".getBytes(StandardCharsets.US_ASCII))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).isEqualTo("mx.rebind.example[127.0.0.1]:" + port);
        });
        assertThat(checked.connections()).isEqualTo(1);
        assertThat(rebound.connections()).isZero();
        assertThat(dns.log()).filteredOn(q -> q.equals("mx.rebind.example/A")).hasSize(1);
        mx.close();
        smtp.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
