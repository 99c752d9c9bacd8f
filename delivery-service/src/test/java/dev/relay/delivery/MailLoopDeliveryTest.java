package dev.relay.delivery;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.DnsCache;
import dev.relay.delivery.mx.DnsServers;
import dev.relay.delivery.mx.MxResolver;
import dev.relay.delivery.mx.RouteResolver;
import dev.relay.delivery.transport.ConnectionReuse;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.transport.OwnName;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.transport.ScriptedSmtpServer;
import dev.relay.delivery.transport.SmtpClient;
import dev.relay.delivery.transport.SmtpTimeouts;
import dev.relay.testkit.CaptureMx;
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
import static org.awaitility.Awaitility.await;

/**
 * Loop detection as Postfix does it (issue 13), over real sockets: an MX list that leads back to our own name
 * ({@code relay.delivery.helo-name}) bounces {@code 5.4.6} without a connection; a server that greets us (220
 * banner or EHLO reply) with our own name is quit and the mail bounces {@code 5.4.6}. Our name here is
 * {@code delivery.test}; names compare case-insensitively, a trailing dot ignored.
 */
class MailLoopDeliveryTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));
    private static final String SELF = "delivery.test";

    private static Vertx vertx;
    private static DnsResponder dns;
    private final List<AutoCloseable> servers = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final TransportMetrics metrics = new TransportMetrics(registry);

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        dns = DnsResponder.start()
                .mx("loop.example", 10, "Delivery.Test.").a("delivery.test", "127.0.0.1")
                .mx("first.example", 10, "delivery.test").mx("first.example", 20, "worse.first.example")
                .a("worse.first.example", "127.0.0.2")
                .mx("backup.example", 10, "primary.backup.example").mx("backup.example", 20, "delivery.test")
                .a("primary.backup.example", "127.0.0.2");
    }

    @AfterAll
    static void stop() throws Exception {
        dns.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stopServers() throws Exception {
        for (AutoCloseable server : servers) {
            server.close();
        }
    }

    @Test
    void shouldBounceWithoutConnectingWhenTheMxIsOurOwnName() throws Exception {
        int port = freePort();
        ScriptedSmtpServer us = listen("127.0.0.1", port);

        List<RecipientResult> results = deliverByMx(port, "DELIVERY.test.", "bob@loop.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(r.detail()).startsWith("554 5.4.6 mail for loop.example loops back to myself");
        });
        assertThat(us.connections()).isZero();
        assertThat(loops("mx")).isEqualTo(1);
    }

    @Test
    void shouldBounceWhenWeAreTheMostPreferredMxEvenWithWorseOnes() throws Exception {
        int port = freePort();
        ScriptedSmtpServer us = listen("127.0.0.1", port);
        ScriptedSmtpServer worse = listen("127.0.0.2", port);

        List<RecipientResult> results = deliverByMx(port, SELF, "bob@first.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(r.detail()).startsWith("554 5.4.6 mail for first.example loops back to myself");
        });
        assertThat(us.connections() + worse.connections()).isZero();
    }

    @Test
    void shouldDeliverToABetterMxWhenWeAreOnlyABackupMx() throws Exception {
        int port = freePort();
        ScriptedSmtpServer us = listen("127.0.0.1", port);
        ScriptedSmtpServer primary = listen("127.0.0.2", port);

        List<RecipientResult> results = deliverByMx(port, SELF, "bob@backup.example");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).isEqualTo("primary.backup.example[127.0.0.2]:" + port);
        });
        assertThat(us.connections()).isZero();
        assertThat(primary.connections()).isEqualTo(1);
    }

    @Test
    void shouldDeliverToAnMxNamedOtherwiseAsBefore() throws Exception {
        int port = freePort();
        ScriptedSmtpServer server = listen("127.0.0.1", port);

        List<RecipientResult> results = deliverByMx(port, "other.test", "bob@loop.example");

        assertThat(results).singleElement().extracting(RecipientResult::status).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(server.connections()).isEqualTo(1);
    }

    @Test
    void shouldQuitAndBounceWhenTheCaptureMxGreetsWithOurOwnName() throws Exception {
        // the testkit's capture MX greets as capture-mx.relay.test: give the delivery that name
        CaptureMx capture = CaptureMx.start(InetAddress.getByName("127.0.0.1"), 0, null);
        servers.add(capture);

        List<RecipientResult> results = deliverStatic("Capture-MX.relay.test", capture.port(), "bob@example.org");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(r.detail()).startsWith("554 5.4.6 mail for example.org loops back to myself");
            assertThat(r.remote()).isEqualTo("127.0.0.1[127.0.0.1]:" + capture.port());
        });
        assertThat(capture.messages()).isEmpty();
        assertThat(loops("greeting")).isEqualTo(1);
    }

    @Test
    void shouldQuitWithoutEhloWhenTheBannerNamesUs() throws Exception {
        ScriptedSmtpServer server = new ScriptedSmtpServer().greeting("220 Delivery.Test. ESMTP ready").start();
        servers.add(server);

        List<RecipientResult> results = deliverStatic(SELF, server.port(), "bob@example.org", "carol@example.org");

        assertThat(results).hasSize(2).allSatisfy(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(r.detail()).startsWith("554 5.4.6 mail for example.org loops back to myself");
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> !server.sessions().isEmpty());
        assertThat(server.sessions().get(0).commands()).containsExactly("QUIT");
    }

    @Test
    void shouldQuitAndBounceWhenTheEhloReplyNamesUs() throws Exception {
        ScriptedSmtpServer server = new ScriptedSmtpServer().greeting("220 mx.example.org ESMTP")
                .ehlo("250-DELIVERY.TEST greets delivery.test\r\n250 8BITMIME").start();
        servers.add(server);

        List<RecipientResult> results = deliverStatic(SELF, server.port(), "bob@example.org");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(r.detail()).startsWith("554 5.4.6 mail for example.org loops back to myself");
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> !server.sessions().isEmpty());
        assertThat(server.sessions().get(0).commands()).containsExactly("EHLO delivery.test", "QUIT");
    }

    @Test
    void shouldNotTakeOurNameLaterInTheBannerForALoop() throws Exception {
        ScriptedSmtpServer server = new ScriptedSmtpServer().greeting("220 mx.example.org ESMTP hello delivery.test")
                .start();
        servers.add(server);

        List<RecipientResult> results = deliverStatic(SELF, server.port(), "bob@example.org");

        assertThat(results).singleElement().extracting(RecipientResult::status).isEqualTo(DeliveryStatus.DELIVERED);
    }

    private List<RecipientResult> deliverByMx(int port, String ownName, String... recipients) throws Exception {
        MxResolver mx = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2), metrics, null, DnsCache.disabled(), new OwnName(ownName));
        RouteResolver routes = new RouteResolver(vertx, mx, new DestinationGuard(true), Optional.empty(), Map.of(),
                Optional.empty(), port, metrics);
        String domain = recipients[0].substring(recipients[0].indexOf('@') + 1);
        return deliver(routes, client(ownName), Route.mx(domain), recipients);
    }

    private List<RecipientResult> deliverStatic(String ownName, int port, String... recipients) throws Exception {
        MxResolver unused = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2));
        RouteResolver routes = new RouteResolver(vertx, unused, new DestinationGuard(true), Optional.empty(),
                Map.of(), Optional.empty(), 25, metrics);
        Route route = new Route("example.org", Route.Kind.STATIC, "127.0.0.1", port, "none");
        return deliver(routes, client(ownName), route, recipients);
    }

    private SmtpClient client(String heloName) {
        return new SmtpClient(vertx, heloName, TIMEOUTS, ConnectionReuse.none(),
                new DestinationGate(vertx, DestinationLimits.unlimited()), metrics);
    }

    private static List<RecipientResult> deliver(RouteResolver routes, SmtpClient smtp, Route route,
                                                 String... recipients) throws Exception {
        try {
            Envelope envelope = new Envelope(Envelope.VERSION, "m1", System.currentTimeMillis(), "192.0.2.10",
                    "client.test", "submission", true, null, "alice@relay.test", List.of(recipients), false, "7BIT",
                    10, route, 0);
            byte[] data = "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);
            return new HopDeliverer(routes, smtp).deliver(envelope, data).toCompletionStage().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
        } finally {
            smtp.close();
        }
    }

    private double loops(String where) {
        return registry.get(TransportMetrics.LOOPS).tag("where", where).counter().count();
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
