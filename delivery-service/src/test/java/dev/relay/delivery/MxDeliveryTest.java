package dev.relay.delivery;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.DnsServers;
import dev.relay.delivery.mx.MxResolver;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One delivery attempt from envelope to SMTP: {@link HopDeliverer} with the real route and MX resolution against
 * the testkit's {@link DnsResponder} and SMTP servers on loopback addresses (127.0.0.1, 127.0.0.2, ::1) that
 * share one port, as MX hosts share port 25.
 */
class MxDeliveryTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));

    private static Vertx vertx;
    private static DnsResponder dns;
    private static SmtpClient smtp;
    private static MxResolver mx;
    private final List<ScriptedSmtpServer> servers = new ArrayList<>();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        dns = DnsResponder.start()
                .mx("fallback.example", 10, "down.fallback.example").mx("fallback.example", 20, "up.fallback.example")
                .a("down.fallback.example", "127.0.0.2").a("up.fallback.example", "127.0.0.1")
                .mx("preference.example", 20, "second.preference.example")
                .mx("preference.example", 10, "first.preference.example")
                .a("first.preference.example", "127.0.0.2").a("second.preference.example", "127.0.0.1")
                .a("plain-a.example", "127.0.0.1")
                .aaaa("only-aaaa.example", "::1")
                .nullMx("nullmx.example")
                .mx("private.example", 10, "mx.private.example").a("mx.private.example", "127.0.0.1");
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
        for (ScriptedSmtpServer server : servers) {
            server.close();
        }
    }

    @Test
    void shouldUseTheMostPreferredMx() throws Exception {
        int port = freePort();
        ScriptedSmtpServer first = listen("127.0.0.2", port);
        ScriptedSmtpServer second = listen("127.0.0.1", port);

        List<RecipientResult> results = deliver(port, true, "bob@preference.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).isEqualTo("first.preference.example[127.0.0.2]:" + port);
        });
        assertThat(first.connections()).isEqualTo(1);
        assertThat(second.connections()).isZero();
    }

    @Test
    void shouldFallBackToTheNextMxWhenTheFirstRefusesConnections() throws Exception {
        int port = freePort();
        ScriptedSmtpServer up = listen("127.0.0.1", port); // nothing listens on 127.0.0.2: connection refused

        List<RecipientResult> results = deliver(port, true, "bob@fallback.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).isEqualTo("up.fallback.example[127.0.0.1]:" + port);
        });
        assertThat(up.connections()).isEqualTo(1);
    }

    @Test
    void shouldDeliverToTheDomainsOwnAddressWhenThereIsNoMx() throws Exception {
        int port = freePort();
        ScriptedSmtpServer server = listen("127.0.0.1", port);

        List<RecipientResult> results = deliver(port, true, "bob@plain-a.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).isEqualTo("plain-a.example[127.0.0.1]:" + port);
        });
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void shouldDeliverOverIpv6WhenTheDomainHasOnlyAnAaaaRecord() throws Exception {
        int port = freePort();
        ScriptedSmtpServer server = listen("::1", port);

        List<RecipientResult> results = deliver(port, true, "bob@only-aaaa.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).startsWith("only-aaaa.example[0:0:0:0:0:0:0:1]");
        });
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void shouldBounceNullMxDomainWithoutConnecting() throws Exception {
        int port = freePort();
        ScriptedSmtpServer server = listen("127.0.0.1", port);

        List<RecipientResult> results = deliver(port, true, "bob@nullmx.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT); // bounced, never retried
            assertThat(r.detail()).startsWith("556 5.1.10");
        });
        assertThat(server.connections()).isZero();
    }

    @Test
    void shouldRefusePrivateMxAddressWhenPrivateDestinationsAreNotAllowed() throws Exception {
        int port = freePort();
        ScriptedSmtpServer server = listen("127.0.0.1", port);

        List<RecipientResult> results = deliver(port, false, "bob@private.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(r.detail()).startsWith("550 5.4.4 refusing to connect to private address 127.0.0.1");
        });
        assertThat(server.connections()).isZero();
    }

    @Test
    void shouldHandleEachRecipientDomainOnItsOwn() throws Exception {
        int port = freePort();
        ScriptedSmtpServer server = listen("127.0.0.1", port);

        List<RecipientResult> results = deliver(port, true, "bob@plain-a.example", "carol@nullmx.example");

        assertThat(results).extracting(RecipientResult::recipient, RecipientResult::status).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("bob@plain-a.example", DeliveryStatus.DELIVERED),
                org.assertj.core.groups.Tuple.tuple("carol@nullmx.example", DeliveryStatus.PERMANENT));
        assertThat(server.connections()).isEqualTo(1);
    }

    /** The domain comes from the common address parser: what it refuses is bounced, never sent to a server. */
    @Test
    void shouldBounceARecipientTheAddressParserRefusesWithoutSendingIt() throws Exception {
        int port = freePort();
        ScriptedSmtpServer server = listen("127.0.0.1", port);

        List<RecipientResult> results = deliver(port, true, "bob@plain-a.example", "bob smith@plain-a.example");

        assertThat(results).extracting(RecipientResult::recipient, RecipientResult::status).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("bob@plain-a.example", DeliveryStatus.DELIVERED),
                org.assertj.core.groups.Tuple.tuple("bob smith@plain-a.example", DeliveryStatus.PERMANENT));
        assertThat(results).filteredOn(r -> r.status() == DeliveryStatus.PERMANENT).singleElement()
                .satisfies(r -> assertThat(r.detail()).startsWith("553 5.1.3"));
        assertThat(server.connections()).isEqualTo(1);
    }

    private List<RecipientResult> deliver(int port, boolean allowPrivate, String... recipients) throws Exception {
        RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(allowPrivate), Optional.empty(),
                Map.of(), port);
        HopDeliverer deliverer = new HopDeliverer(routes, smtp);
        Envelope envelope = new Envelope(Envelope.VERSION, "m1", System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, null, "alice@relay.test", List.of(recipients), false, "8BITMIME",
                10, Route.mx(recipients[0].substring(recipients[0].indexOf('@') + 1)), 0);
        byte[] data = "Subject: hi\r\n\r\nGrüße\r\n".getBytes(StandardCharsets.UTF_8);
        return deliverer.deliver(envelope, data).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private ScriptedSmtpServer listen(String address, int port) throws IOException {
        ScriptedSmtpServer server = new ScriptedSmtpServer().start(InetAddress.getByName(address), port);
        servers.add(server);
        return server;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
