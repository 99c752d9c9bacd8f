package dev.relay.delivery.transport;

import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.delivery.metrics.OutboundExtensionMetrics;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.RecipientResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Outbound CHUNKING (RFC 3030) over real sockets against {@link SubmissionServer}: the stored bytes go out in BDAT
 * chunks exactly as they are (no dot-stuffing), with and without PIPELINING; small messages and servers without
 * CHUNKING keep DATA; a refused chunk ends the transaction with its reply.
 */
class BdatDeliveryTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));
    private static final int CHUNK = 64;

    private static Vertx vertx;
    private final List<SubmissionServer> servers = new ArrayList<>();
    private final List<SmtpClient> clients = new ArrayList<>();
    private OutboundExtensionMetrics metrics;

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
        for (SubmissionServer server : servers) {
            server.close();
        }
    }

    @Test
    void shouldSendTheExactBytesInChunksWithoutPipelining() throws Exception {
        SubmissionServer server = start(new SubmissionServer().chunking().mechanisms());
        byte[] message = awkwardMessage(3 * CHUNK);

        List<RecipientResult> results = deliver(client(0, ConnectionReuse.none()), server, message);

        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        assertThat(server.messages()).singleElement().satisfies(m -> {
            assertThat(m.data()).isEqualTo(message);
            assertThat(m.chunks()).containsExactly(CHUNK, CHUNK, CHUNK);
        });
        assertThat(server.commands()).contains("BDAT 64", "BDAT 64 LAST").doesNotContain("DATA");
        assertThat(metrics.chunkedCount()).isEqualTo(1);
    }

    @Test
    void shouldPipelineTheChunksWhenOffered() throws Exception {
        SubmissionServer server = start(new SubmissionServer().chunking().pipelining().mechanisms());
        byte[] message = awkwardMessage(2 * CHUNK + 5);

        List<RecipientResult> results = deliver(client(0, ConnectionReuse.none()), server, message);

        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        assertThat(server.messages()).singleElement().satisfies(m -> {
            assertThat(m.data()).isEqualTo(message);
            assertThat(m.chunks()).containsExactly(CHUNK, CHUNK, 5);
        });
        assertThat(server.commands()).contains("BDAT 5 LAST").doesNotContain("DATA");
    }

    @Test
    void shouldKeepDataBelowTheThresholdOrWithoutChunking() throws Exception {
        SubmissionServer chunking = start(new SubmissionServer().chunking().mechanisms());
        SubmissionServer plain = start(new SubmissionServer().mechanisms());
        byte[] message = awkwardMessage(2 * CHUNK);
        SmtpClient client = client(2 * CHUNK + 1, ConnectionReuse.none());

        deliver(client, chunking, message);
        deliver(client(0, ConnectionReuse.none()), plain, message);

        assertThat(chunking.commands()).contains("DATA").noneMatch(c -> c.startsWith("BDAT"));
        assertThat(plain.commands()).contains("DATA").noneMatch(c -> c.startsWith("BDAT"));
        assertThat(chunking.messages().get(0).data()).isEqualTo(message);
        assertThat(plain.messages().get(0).data()).isEqualTo(message);
    }

    @Test
    void shouldEndTheTransactionWhenAChunkIsRefused() throws Exception {
        SubmissionServer server = start(new SubmissionServer().chunking().mechanisms()
                .bdatReply(1, "452 4.3.1 insufficient system storage"));
        SmtpClient client = client(0, new ConnectionReuse(10, Duration.ofSeconds(30)));

        List<RecipientResult> results = deliver(client, server, awkwardMessage(3 * CHUNK));

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).contains("452 4.3.1");
        });
        assertThat(server.messages()).isEmpty();
        // no further chunk after the refusal, and the session is cleared with RSET before it is reused
        assertThat(server.count("BDAT")).isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.saw("RSET"));
    }

    @Test
    void shouldReportTheFirstRefusedChunkWhenPipelined() throws Exception {
        SubmissionServer server = start(new SubmissionServer().chunking().pipelining().mechanisms()
                .bdatReply(0, "554 5.6.0 message content rejected"));

        List<RecipientResult> results = deliver(client(0, ConnectionReuse.none()), server, awkwardMessage(2 * CHUNK));

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(r.detail()).contains("554 5.6.0");
        });
        assertThat(server.messages()).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------

    private SmtpClient client(long threshold, ConnectionReuse reuse) {
        metrics = new OutboundExtensionMetrics(new SimpleMeterRegistry());
        SmtpClient client = new SmtpClient(vertx, "delivery.test", TIMEOUTS, reuse,
                new DestinationGate(vertx, DestinationLimits.unlimited()),
                new TransportMetrics(new SimpleMeterRegistry()),
                new OutboundOptions(Optional.empty(), new Chunking(threshold, CHUNK), metrics));
        clients.add(client);
        return client;
    }

    private SubmissionServer start(SubmissionServer server) throws IOException {
        servers.add(server);
        return server.start();
    }

    private static List<RecipientResult> deliver(SmtpClient client, SubmissionServer server, byte[] data)
            throws Exception {
        return client.deliver(List.of(new SmtpTarget("mx.test", "127.0.0.1", server.port(), TlsPolicy.NONE)),
                        new OutboundMessage("m1", "app@relay.test", List.of("bob@example.org"), data, true, false))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /**
     * Exactly {@code length} octets: lines that start with '.', a lone '.' line, 8-bit octets and CRLFs that
     * straddle chunk boundaries; ends with CRLF.
     */
    private static byte[] awkwardMessage(int length) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write("Subject: chunks\r\n\r\n.leading dot\r\n.\r\n..two\r\n".getBytes(StandardCharsets.US_ASCII));
        out.write("Grüße ünïcödé\r\n".getBytes(StandardCharsets.UTF_8));
        out.write(new byte[]{(byte) 0xE9, (byte) 0xFF, (byte) 0x80, '\r', '\n'});
        while (out.size() < length - 2) {
            out.write(out.size() % 7 == 0 ? '.' : 'x');
        }
        out.write('\r');
        out.write('\n');
        byte[] bytes = out.toByteArray();
        assertThat(bytes).hasSize(length);
        return bytes;
    }
}
