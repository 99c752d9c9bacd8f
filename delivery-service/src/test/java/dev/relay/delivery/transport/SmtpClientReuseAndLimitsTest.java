package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.destination.Destination;
import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.delivery.metrics.TransportMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Connection reuse and per-destination limits of the SMTP client against {@link ScriptedSmtpServer}s over real
 * sockets; the servers count the connections they accept and how many were open at once.
 */
class SmtpClientReuseAndLimitsTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));
    private static final DestinationLimits GENEROUS =
            new DestinationLimits(10, 100, 0, Duration.ofMinutes(1), Duration.ofMinutes(30));

    private static Vertx vertx;
    private final List<ScriptedSmtpServer> servers = new ArrayList<>();
    private final List<SmtpClient> clients = new ArrayList<>();
    private SimpleMeterRegistry registry;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        for (SmtpClient client : clients) {
            client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        for (ScriptedSmtpServer server : servers) {
            server.close();
        }
    }

    @Test
    void shouldSendTwoMessagesOverOneConnection() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        SmtpClient client = client(new ConnectionReuse(100, Duration.ofSeconds(5)), GENEROUS);

        assertDelivered(deliver(client, target("mx.test", server), "first"));
        assertDelivered(deliver(client, target("mx.test", server), "second"));

        assertThat(server.connections()).isEqualTo(1);
        assertThat(counter(TransportMetrics.CONNECTIONS_OPENED)).isEqualTo(1);
        assertThat(counter(TransportMetrics.CONNECTIONS_REUSED)).isEqualTo(1);
        client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        ScriptedSmtpServer.Session session = session(server);
        assertThat(session.commands()).as(session.transcriptText())
                .filteredOn(c -> c.startsWith("MAIL")).hasSize(2);
        assertThat(session.commands()).last().isEqualTo("QUIT");
        assertThat(registry.find(TransportMetrics.CONNECTIONS_OPEN).gauge().value()).isZero();
    }

    @Test
    void shouldOpenNewConnectionAfterMaxMessages() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        SmtpClient client = client(new ConnectionReuse(2, Duration.ofSeconds(5)), GENEROUS);

        for (int i = 0; i < 3; i++) {
            assertDelivered(deliver(client, target("mx.test", server), "m" + i));
        }

        assertThat(server.connections()).isEqualTo(2);
        ScriptedSmtpServer.Session first = session(server);
        assertThat(first.commands()).filteredOn(c -> c.startsWith("MAIL")).hasSize(2);
        assertThat(first.commands()).last().isEqualTo("QUIT");
    }

    @Test
    void shouldResetBeforeReusingAfterAnAbortedTransaction() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().rcpt("nobody@example.org", "550 5.1.1 unknown"));
        SmtpClient client = client(new ConnectionReuse(100, Duration.ofSeconds(5)), GENEROUS);

        List<RecipientResult> refused = client.deliver(List.of(target("mx.test", server)),
                new OutboundMessage("m1", "alice@relay.test", List.of("nobody@example.org"), body("m1"), false,
                        false)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        // the RSET runs after the outcome is returned; the session is pooled once the server answered it
        await().atMost(Duration.ofSeconds(10)).until(() -> client.idleConnections() == 1);
        assertDelivered(deliver(client, target("mx.test", server), "m2"));

        assertThat(refused).singleElement().satisfies(r -> assertThat(r.status().isPermanent()).isTrue());
        assertThat(server.connections()).isEqualTo(1);
        client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(session(server).commands().stream().map(c -> c.split(" ")[0]).toList())
                .containsSubsequence("RCPT", "RSET", "MAIL", "RCPT", "DATA", "QUIT");
    }

    @Test
    void shouldOpenFreshConnectionWhenPooledOneAnswers421() throws Exception {
        // the server times the idle connection out: the next MAIL gets 421 and the connection closes
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().closeAfter(1, "421 4.4.2 idle timeout"));
        SmtpClient client = client(new ConnectionReuse(100, Duration.ofSeconds(5)), GENEROUS);

        assertDelivered(deliver(client, target("mx.test", server), "first"));
        assertDelivered(deliver(client, target("mx.test", server), "second"));

        assertThat(server.connections()).isEqualTo(2);
        // a 421 on a pooled connection is no throttling: the destination is not backing off
        assertThat(gate.backingOff(Destination.of("mx.test", server.port()))).isZero();
    }

    @Test
    void shouldOpenFreshConnectionWhenPooledOneWasClosedSilently() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().closeAfter(1, null));
        SmtpClient client = client(new ConnectionReuse(100, Duration.ofSeconds(5)), GENEROUS);

        assertDelivered(deliver(client, target("mx.test", server), "first"));
        assertDelivered(deliver(client, target("mx.test", server), "second"));

        assertThat(server.connections()).isEqualTo(2);
    }

    @Test
    void shouldCloseIdleConnectionWithQuitAfterIdleTimeout() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        SmtpClient client = client(new ConnectionReuse(100, Duration.ofMillis(300)), GENEROUS);

        assertDelivered(deliver(client, target("mx.test", server), "first"));

        ScriptedSmtpServer.Session session = session(server); // recorded when the connection ends
        assertThat(session.commands()).last().isEqualTo("QUIT");
        assertThat(client.idleConnections()).isZero();
    }

    @Test
    void shouldKeepAtMostMaxConnectionsToOneDestination() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().dataEndDelay(300));
        SmtpClient client = client(ConnectionReuse.none(),
                new DestinationLimits(2, 100, 0, Duration.ofMinutes(1), Duration.ofMinutes(30)));

        List<Future<List<RecipientResult>>> sent = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            sent.add(client.deliver(List.of(target("mx.test", server)), message("m" + i)));
        }
        Future.all(new ArrayList<>(sent)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

        sent.forEach(f -> assertDelivered(f.result()));
        assertThat(server.connections()).isEqualTo(6);
        assertThat(server.maxConcurrent()).isEqualTo(2);
    }

    @Test
    void shouldHandAnIdleConnectionToADeliveryWaitingForASlot() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().dataEndDelay(100));
        SmtpClient client = client(new ConnectionReuse(100, Duration.ofSeconds(5)),
                new DestinationLimits(1, 100, 0, Duration.ofMinutes(1), Duration.ofMinutes(30)));

        List<Future<List<RecipientResult>>> sent = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            sent.add(client.deliver(List.of(target("mx.test", server)), message("m" + i)));
        }
        Future.all(new ArrayList<>(sent)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

        sent.forEach(f -> assertDelivered(f.result()));
        assertThat(server.connections()).as("one connection carried all four").isEqualTo(1);
        assertThat(counter(TransportMetrics.CONNECTIONS_REUSED)).isEqualTo(3);
    }

    @Test
    void shouldDeferWhenTheDestinationQueueIsFull() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().dataEndDelay(500));
        SmtpClient client = client(ConnectionReuse.none(),
                new DestinationLimits(1, 1, 0, Duration.ofMinutes(1), Duration.ofMinutes(30)));

        List<Future<List<RecipientResult>>> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sent.add(client.deliver(List.of(target("mx.test", server)), message("m" + i)));
        }
        Future.all(new ArrayList<>(sent)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

        // one connects, one waits in the queue (then connects), the third finds the queue full
        assertDelivered(sent.get(0).result());
        assertDelivered(sent.get(1).result());
        assertThat(sent.get(2).result()).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).startsWith("451 4.4.5").contains("deliveries waiting");
        });
        assertThat(server.connections()).isEqualTo(2);
    }

    @Test
    void shouldBackOffAfter421GreetingAndLeaveOtherDestinationsAlone() throws Exception {
        ScriptedSmtpServer throttling = start(new ScriptedSmtpServer()
                .greeting("421 4.7.0 too many connections from your address"));
        ScriptedSmtpServer other = start(new ScriptedSmtpServer());
        SmtpClient client = client(ConnectionReuse.none(), GENEROUS);

        List<RecipientResult> first = deliver(client, target("busy.test", throttling), "m1");
        List<RecipientResult> second = deliver(client, target("busy.test", throttling), "m2");
        List<RecipientResult> elsewhere = deliver(client, target("calm.test", other), "m3");

        assertThat(first).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).contains("421 4.7.0");
        });
        assertThat(second).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).startsWith("451 4.4.5").contains("backing off");
            assertThat(r.remote()).isEqualTo("busy.test[127.0.0.1]:" + throttling.port());
        });
        assertThat(throttling.connections()).as("no connection while backing off").isEqualTo(1);
        assertDelivered(elsewhere);
        assertThat(registry.find(TransportMetrics.BACKOFF).gauge().value()).isEqualTo(1);
    }

    @Test
    void shouldBackOffAfter451WithPolicyStatusAtMail() throws Exception {
        ScriptedSmtpServer throttling = start(new ScriptedSmtpServer().mail("451 4.7.1 rate limit exceeded"));
        SmtpClient client = client(new ConnectionReuse(100, Duration.ofSeconds(5)), GENEROUS);

        List<RecipientResult> first = deliver(client, target("busy.test", throttling), "m1");
        List<RecipientResult> second = deliver(client, target("busy.test", throttling), "m2");

        assertThat(first).singleElement().satisfies(r -> assertThat(r.detail()).startsWith("451 4.7.1"));
        assertThat(second).singleElement().satisfies(r -> assertThat(r.detail()).startsWith("451 4.4.5"));
        assertThat(throttling.connections()).isEqualTo(1);
        assertThat(client.idleConnections()).as("a throttled connection is not pooled").isZero();
    }

    @Test
    void shouldNotBackOffAfterAnOrdinaryTransientReply() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().mail("451 4.3.0 local problem"));
        SmtpClient client = client(ConnectionReuse.none(), GENEROUS);

        deliver(client, target("mx.test", server), "m1");
        deliver(client, target("mx.test", server), "m2");

        assertThat(server.connections()).isEqualTo(2);
    }

    @Test
    void shouldTryTheNextMxWhenTheFirstIsBackingOff() throws Exception {
        ScriptedSmtpServer throttling = start(new ScriptedSmtpServer().greeting("421 4.7.0 try later"));
        ScriptedSmtpServer backup = start(new ScriptedSmtpServer());
        SmtpClient client = client(ConnectionReuse.none(), GENEROUS);
        List<SmtpTarget> targets = List.of(target("mx1.test", throttling), target("mx2.test", backup));

        client.deliver(targets, message("m1")).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        List<RecipientResult> second = client.deliver(targets, message("m2")).toCompletionStage()
                .toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(second).singleElement().satisfies(r -> assertThat(r.remote()).startsWith("mx2.test"));
        assertThat(throttling.connections()).isEqualTo(1);
        assertThat(backup.connections()).isEqualTo(2);
    }

    @Test
    void shouldSpreadMessagesOverTheMinuteUnderMessagesPerMinute() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        SmtpClient client = client(new ConnectionReuse(100, Duration.ofSeconds(5)),
                new DestinationLimits(10, 100, 120, Duration.ofMinutes(1), Duration.ofMinutes(30)));
        long start = System.nanoTime();

        List<Future<List<RecipientResult>>> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sent.add(client.deliver(List.of(target("mx.test", server)), message("m" + i)));
        }
        Future.all(new ArrayList<>(sent)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

        sent.forEach(f -> assertDelivered(f.result()));
        // 120 per minute: one every 500 ms, so the third cannot have started before 1 s (a lower bound only)
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(990));
    }

    private DestinationGate gate;

    private SmtpClient client(ConnectionReuse reuse, DestinationLimits limits) {
        registry = new SimpleMeterRegistry();
        TransportMetrics metrics = new TransportMetrics(registry);
        gate = new DestinationGate(vertx, limits);
        metrics.watchBackOff(gate::backingOffCount);
        SmtpClient client = new SmtpClient(vertx, "delivery.test", TIMEOUTS, reuse, gate, metrics);
        clients.add(client);
        return client;
    }

    private ScriptedSmtpServer start(ScriptedSmtpServer server) throws IOException {
        servers.add(server.start());
        return server;
    }

    private static SmtpTarget target(String host, ScriptedSmtpServer server) {
        return new SmtpTarget(host, "127.0.0.1", server.port(), TlsPolicy.OPPORTUNISTIC);
    }

    private static List<RecipientResult> deliver(SmtpClient client, SmtpTarget target, String id) throws Exception {
        return client.deliver(List.of(target), message(id)).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
    }

    private static OutboundMessage message(String id) {
        return new OutboundMessage(id, "alice@relay.test", List.of("bob@example.org"), body(id), false, false);
    }

    private static byte[] body(String id) {
        return ("Subject: " + id + "\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static void assertDelivered(List<RecipientResult> results) {
        assertThat(results).extracting(RecipientResult::status).containsOnly(DeliveryStatus.DELIVERED);
    }

    private double counter(String name) {
        return registry.find(name).counter().count();
    }

    private static ScriptedSmtpServer.Session session(ScriptedSmtpServer server) {
        await().atMost(Duration.ofSeconds(10)).until(() -> !server.sessions().isEmpty());
        return server.sessions().get(0);
    }
}
