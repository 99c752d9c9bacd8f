package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.testkit.hostile.HostileMx;
import dev.relay.testkit.hostile.HostileMx.Mode;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue #12 item 2: every hostile receiving server of the testkit ends in a bounded state — the attempt is a
 * transient failure (the message is retried later or at the next MX), the reason names the bound that was hit,
 * and the connection is closed by us, while the server is still attacking.
 */
class HostileMxDeliveryTest {

    /** Short deadlines keep the test quick; production has RFC 5321's 5 and 10 minutes. */
    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(3));

    private static Vertx vertx;
    private static SmtpClient client;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        client = new SmtpClient(vertx, "delivery.test", TIMEOUTS);
    }

    @AfterAll
    static void stop() throws Exception {
        client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Before: every 250 was queued without limit (a live run grew a worker from ~300 MiB to 2.4 GiB). */
    @Test
    void aReplyFloodIsAProtocolViolationAfterTheFirstUnsolicitedReply() throws Exception {
        try (HostileMx mx = HostileMx.start(Mode.REPLY_FLOOD)) {
            RecipientResult result = deliver(mx, TlsPolicy.NONE);

            assertThat(result.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(result.detail()).startsWith("451 4.4.1").contains("unsolicited reply");
            awaitClosedByUs(mx);
        }
    }

    @Test
    void anEndlessMultiLineReplyEndsAtTheLineCap() throws Exception {
        try (HostileMx mx = HostileMx.start(Mode.ENDLESS_MULTILINE)) {
            RecipientResult result = deliver(mx, TlsPolicy.NONE);

            assertThat(result.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(result.detail()).startsWith("451 4.4.1").contains("reply longer than 100 lines");
            awaitClosedByUs(mx);
        }
    }

    @Test
    void aReplyTrickledOneByteAtATimeEndsAtTheReplyDeadline() throws Exception {
        // 24 bytes of greeting at 200 ms each take ~5 s: every byte is on time, the reply is not
        try (HostileMx mx = HostileMx.start(Mode.ONE_BYTE_PER_SECOND, Duration.ofMillis(200))) {
            RecipientResult result = deliver(mx, TlsPolicy.NONE);

            assertThat(result.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(result.detail()).startsWith("451 4.4.1").contains("no reply to greeting");
            awaitClosedByUs(mx);
        }
    }

    @Test
    void aDataReplyThatNeverEndsEndsAtTheLineCapAsTransient() throws Exception {
        try (HostileMx mx = HostileMx.start(Mode.NEVER_ENDING_DATA_REPLY, Duration.ofMillis(2))) {
            RecipientResult result = deliver(mx, TlsPolicy.NONE);

            // MAIL was accepted: not "unreachable", but transient for this message (retried, RFC 5321 §4.5.4.1)
            assertThat(result.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(result.detail()).startsWith("451 4.4.2").contains("reply longer than 100 lines");
            awaitClosedByUs(mx);
        }
    }

    @Test
    void aSlowDataReplyThatNeverEndsEndsAtTheDataDeadline() throws Exception {
        try (HostileMx mx = HostileMx.start(Mode.NEVER_ENDING_DATA_REPLY, Duration.ofMillis(500))) {
            RecipientResult result = deliver(mx, TlsPolicy.NONE);

            assertThat(result.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(result.detail()).startsWith("451 4.4.2").contains("no reply to end of data");
            awaitClosedByUs(mx);
        }
    }

    /** Before: only Vert.x's default handshake timeout ended it, not the configured command deadline. */
    @Test
    void aStalledTlsHandshakeEndsAtTheCommandDeadline() throws Exception {
        try (HostileMx mx = HostileMx.start(Mode.TLS_HANDSHAKE_STALL)) {
            RecipientResult result = deliver(mx, TlsPolicy.OPPORTUNISTIC);

            assertThat(result.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(result.detail()).startsWith("451 4.4.1").contains("TLS handshake")
                    .contains("did not finish within 2s");
            awaitClosedByUs(mx);
        }
    }

    /** Before: nothing watched the write; a server that stops reading held the delivery forever. */
    @Test
    void aServerThatStopsReadingTheMessageEndsAtTheDataDeadline() throws Exception {
        try (HostileMx mx = HostileMx.start(Mode.DATA_NOT_READ, Duration.ofMillis(50))) {
            // far more than the socket buffers of both sides hold, so the write cannot complete
            byte[] big = ("Subject: big\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(32 * 1024))
                    .getBytes(StandardCharsets.US_ASCII);
            RecipientResult result = deliver(mx, TlsPolicy.NONE, big);

            assertThat(result.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(result.detail()).startsWith("451 4.4.2").contains("sending message data")
                    .contains("did not finish within 3s");
        }
    }

    private static RecipientResult deliver(HostileMx mx, TlsPolicy tls) throws Exception {
        return deliver(mx, tls, "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    private static RecipientResult deliver(HostileMx mx, TlsPolicy tls, byte[] data) throws Exception {
        OutboundMessage message = new OutboundMessage("m-hostile", "alice@relay.test", List.of("bob@hostile.test"),
                data, false, false, null);
        List<RecipientResult> results = client.deliver(
                List.of(new SmtpTarget("mx.hostile.test", mx.host(), mx.port(), tls)), message)
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertThat(results).hasSize(1);
        return results.get(0);
    }

    /** The server is still attacking: only the client can have ended the connection. */
    private static void awaitClosedByUs(HostileMx mx) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(mx.connections()).isEqualTo(1);
            assertThat(mx.closedByClient()).isEqualTo(1);
        });
    }
}
