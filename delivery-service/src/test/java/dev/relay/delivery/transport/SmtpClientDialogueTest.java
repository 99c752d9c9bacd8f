package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RemoteHost;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.common.envelope.Dsn;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.groups.Tuple.tuple;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The SMTP client against {@link ScriptedSmtpServer} over real sockets. Failing assertions print the C:/S:
 * transcript of the session.
 */
class SmtpClientDialogueTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));

    private static Vertx vertx;
    private static SmtpClient client;
    private final List<ScriptedSmtpServer> servers = new ArrayList<>();

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
        client = new SmtpClient(vertx, "delivery.test", TIMEOUTS);
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stopServers() throws IOException {
        for (ScriptedSmtpServer server : servers) {
            server.close();
        }
    }

    @Test
    void shouldRelayEightBitBodyAndDotLinesByteForByte() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        byte[] message = concat(
                "Received: from client by relay\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
                        + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
                "Grüße aus Köln — ünïcödé\r\n".getBytes(StandardCharsets.UTF_8),
                new byte[]{(byte) 0xE9, (byte) 0xFF, (byte) 0x80, '\r', '\n'},
                ".leading dot\r\n..two dots\r\n.\r\nnot a dot at start .\r\n.\r\n. \r\nlast line\r\n");

        List<RecipientResult> results = deliver(server, message, "bob@example.org");

        ScriptedSmtpServer.Session session = session(server);
        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        assertThat(session.data()).as(session.transcriptText()).isEqualTo(message);
        assertThat(new String(session.wireData(), StandardCharsets.ISO_8859_1))
                .contains("\r\n..leading dot\r\n...two dots\r\n..\r\n")
                .endsWith("last line\r\n.\r\n");
        assertThat(session.command("MAIL")).isEqualTo("MAIL FROM:<alice@relay.test> BODY=8BITMIME SIZE="
                + message.length);
    }

    @Test
    void shouldAppendCrlfWhenMessageDoesNotEndWithOne() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        byte[] message = "Subject: x\r\n\r\nno final line break".getBytes(StandardCharsets.US_ASCII);

        deliver(server, message, "bob@example.org");

        assertThat(session(server).data()).isEqualTo(concat(message, "\r\n"));
    }

    @Test
    void shouldReportEachRecipientsOwnResult() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .rcpt("nobody@example.org", "550 5.1.1 <nobody@example.org>: user unknown"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "nobody@example.org", "bob@example.org");

        assertThat(results).extracting(RecipientResult::recipient, RecipientResult::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple("nobody@example.org", DeliveryStatus.PERMANENT),
                org.assertj.core.groups.Tuple.tuple("bob@example.org", DeliveryStatus.DELIVERED));
        assertThat(results.get(0).detail()).isEqualTo("550 5.1.1 <nobody@example.org>: user unknown");
        assertThat(results.get(1).detail()).isEqualTo("250 2.0.0 queued as 42");
        assertThat(results.get(1).remote()).isEqualTo("mx.test[127.0.0.1]:" + server.port());
    }

    @Test
    void shouldCarryTheReplyAsFieldsFromWhereItWasRead() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .rcpt("nobody@example.org", "550 5.1.1 <nobody@example.org>: user unknown"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "nobody@example.org", "bob@example.org");

        assertThat(results.get(0).diagnostic()).isEqualTo(new Diagnostic(Phase.RCPT, 550, "5.1.1",
                "550 5.1.1 <nobody@example.org>: user unknown"));
        assertThat(results.get(1).diagnostic()).isEqualTo(new Diagnostic(Phase.MESSAGE, 250, "2.0.0",
                "250 2.0.0 queued as 42"));
        assertThat(results).extracting(RecipientResult::peer)
                .containsOnly(new RemoteHost("mx.test", "127.0.0.1", server.port()));
    }

    @Test
    void shouldDeferRecipientRefusedWith451AtRcpt() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .rcpt("busy@example.org", "451 4.7.1 greylisted, try again later"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "busy@example.org");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status().isTransient()).isTrue();
            assertThat(r.detail()).startsWith("451 4.7.1");
        });
        assertThat(session(server).sent("DATA")).isFalse();
    }

    @Test
    void shouldDeferEveryRecipientWhenDataEndsWith451() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().dataEnd("451 4.3.0 local error, try later"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "a@example.org", "b@example.org");

        assertThat(results).extracting(RecipientResult::status)
                .containsExactly(DeliveryStatus.TRANSIENT, DeliveryStatus.TRANSIENT);
    }

    @Test
    void shouldBounceEveryRecipientWhenMailFromIsRefusedPermanently() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().mail("553 5.7.1 sender rejected"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "a@example.org", "b@example.org");

        assertThat(results).extracting(RecipientResult::status)
                .containsExactly(DeliveryStatus.PERMANENT, DeliveryStatus.PERMANENT);
        assertThat(session(server).sent("RCPT")).isFalse();
    }

    @Test
    void shouldFallBackToHeloWhenEhloRefused() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().ehlo(null));

        List<RecipientResult> results = deliver(server, simpleMessage(), "bob@example.org");

        ScriptedSmtpServer.Session session = session(server);
        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        assertThat(session.commands()).as(session.transcriptText())
                .startsWith("EHLO delivery.test", "HELO delivery.test");
        // no extensions after HELO: no BODY=, no SIZE=
        assertThat(session.command("MAIL")).isEqualTo("MAIL FROM:<alice@relay.test>");
    }

    @Test
    void shouldReadMultiLineGreeting() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .greeting("220-scripted.test ESMTP\r\n220-no UCE\r\n220 welcome"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "bob@example.org");

        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
    }

    @Test
    void shouldBounceWhenSmtputf8NeededButNotOffered() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().ehlo("250-scripted.test\r\n250 8BITMIME"));
        OutboundMessage message = new OutboundMessage("m1", "ålice@relay.test", List.of("bob@example.org"),
                simpleMessage(), true, true);

        List<RecipientResult> results = deliver(server, message);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status().isPermanent()).isTrue();
            assertThat(r.detail()).contains("5.6.7");
        });
        assertThat(session(server).sent("MAIL")).isFalse();
    }

    @Test
    void shouldSendSmtputf8WhenNeededAndOffered() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        OutboundMessage message = new OutboundMessage("m1", "ålice@relay.test", List.of("bob@example.org"),
                simpleMessage(), true, true);

        deliver(server, message);

        assertThat(session(server).command("MAIL")).startsWith("MAIL FROM:<ålice@relay.test> BODY=8BITMIME SMTPUTF8");
    }

    @Test
    void shouldDeferWhenTlsRequiredButNotOffered() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());

        List<RecipientResult> results = client.deliver(
                List.of(new SmtpTarget("mx.test", "127.0.0.1", server.port(), TlsPolicy.REQUIRED)),
                message(simpleMessage(), "bob@example.org")).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status().isTransient()).isTrue();
            assertThat(r.detail()).contains("STARTTLS not offered");
        });
        assertThat(session(server).sent("MAIL")).isFalse();
    }

    @Test
    void shouldUpgradeWithStartTlsWhenOffered(@TempDir Path dir) throws Exception {
        SSLContext tls = SelfSignedTls.serverContext(dir);
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .ehlo("250-scripted.test\r\n250-8BITMIME\r\n250 STARTTLS").tls(tls));
        byte[] message = concat("Subject: tls\r\n\r\n", "ünïcödé over TLS\r\n.dot\r\n".getBytes(StandardCharsets.UTF_8));

        List<RecipientResult> results = deliver(server, message, "bob@example.org");

        ScriptedSmtpServer.Session session = session(server);
        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        assertThat(session.tls()).as(session.transcriptText()).isTrue();
        assertThat(session.commands()).startsWith("EHLO delivery.test", "STARTTLS", "EHLO delivery.test");
        assertThat(session.data()).isEqualTo(message);
        // the session's TLS travels with the result (for the delivery event)
        assertThat(results.get(0).tlsProtocol()).startsWith("TLSv1.");
        assertThat(results.get(0).tlsCipher()).startsWith("TLS_");
    }

    @Test
    void shouldDeferWhenCertificateIsNotTrustedUnderVerifyPolicy(@TempDir Path dir) throws Exception {
        SSLContext tls = SelfSignedTls.serverContext(dir);
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .ehlo("250-scripted.test\r\n250 STARTTLS").tls(tls));

        List<RecipientResult> results = client.deliver(
                List.of(new SmtpTarget("localhost", "127.0.0.1", server.port(), TlsPolicy.VERIFY)),
                message(simpleMessage(), "bob@example.org")).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status().isTransient()).isTrue();
            assertThat(r.detail()).contains("TLS handshake failed");
        });
    }

    @Test
    void shouldDeferWhenServerNeverAnswers() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().silent());

        List<RecipientResult> results = deliver(server, simpleMessage(), "bob@example.org");

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status().isTransient()).isTrue();
            assertThat(r.detail()).contains("no reply to greeting");
        });
    }

    @Test
    void shouldDeferWhenConnectionIsRefused() throws Exception {
        int closedPort = closedPort();

        List<RecipientResult> results = client.deliver(
                List.of(new SmtpTarget("mx.test", "127.0.0.1", closedPort, TlsPolicy.OPPORTUNISTIC)),
                message(simpleMessage(), "bob@example.org")).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status().isTransient()).isTrue();
            assertThat(r.detail()).startsWith("451 4.4.1").contains("connect failed");
        });
    }

    @Test
    void shouldTryNextAddressWhenTheFirstCannotBeReached() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        List<SmtpTarget> targets = List.of(
                new SmtpTarget("mx1.test", "127.0.0.1", closedPort(), TlsPolicy.OPPORTUNISTIC),
                new SmtpTarget("mx2.test", "127.0.0.1", server.port(), TlsPolicy.OPPORTUNISTIC));

        List<RecipientResult> results = client.deliver(targets, message(simpleMessage(), "bob@example.org"))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).startsWith("mx2.test[127.0.0.1]");
        });
    }

    @Test
    void shouldPipelineMailRcptAndDataWhenOffered() throws Exception {
        // the server answers MAIL and RCPT only after DATA arrived: a client that waits per command times out
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().holdRepliesUntilData()
                .ehlo("250-scripted.test\r\n250-PIPELINING\r\n250 8BITMIME")
                .rcpt("later@example.org", "451 4.2.0 mailbox busy, try later")
                .rcpt("nobody@example.org", "550 5.1.1 user unknown"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "a@example.org", "later@example.org",
                "nobody@example.org", "b@example.org");

        ScriptedSmtpServer.Session session = session(server);
        assertThat(results).as(session.transcriptText())
                .extracting(RecipientResult::recipient, RecipientResult::status, RecipientResult::detail)
                .containsExactly(
                        tuple("a@example.org", DeliveryStatus.DELIVERED, "250 2.0.0 queued as 42"),
                        tuple("later@example.org", DeliveryStatus.TRANSIENT, "451 4.2.0 mailbox busy, try later"),
                        tuple("nobody@example.org", DeliveryStatus.PERMANENT, "550 5.1.1 user unknown"),
                        tuple("b@example.org", DeliveryStatus.DELIVERED, "250 2.0.0 queued as 42"));
        assertThat(session.data()).isEqualTo(simpleMessage());
    }

    @Test
    void shouldNotPipelineWhenNotOffered() throws Exception {
        // the same holding server without PIPELINING in EHLO: the client sends MAIL alone and waits, so it times out
        ScriptedSmtpServer server = start(new ScriptedSmtpServer().holdRepliesUntilData()
                .ehlo("250-scripted.test\r\n250 8BITMIME"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "a@example.org");

        ScriptedSmtpServer.Session session = session(server);
        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).contains("no reply to MAIL");
        });
        assertThat(session.commands()).as(session.transcriptText()).noneMatch(c -> c.startsWith("RCPT"));
    }

    @Test
    void shouldSendNoMessageWhenEveryPipelinedRecipientIsRefused() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .ehlo("250-scripted.test\r\n250 PIPELINING")
                .rcpt("x@example.org", "550 5.1.1 user unknown").rcpt("y@example.org", "450 4.2.1 over quota"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "x@example.org", "y@example.org");

        ScriptedSmtpServer.Session session = session(server);
        assertThat(results).extracting(RecipientResult::status)
                .containsExactly(DeliveryStatus.PERMANENT, DeliveryStatus.TRANSIENT);
        // this server answers DATA with 354 regardless: the client ends it with an empty message at once
        assertThat(session.data()).as(session.transcriptText()).isEmpty();
    }

    @Test
    void shouldBounceEveryPipelinedRecipientWhenMailIsRefused() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .ehlo("250-scripted.test\r\n250 PIPELINING").mail("550 5.7.1 sender refused"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "a@example.org", "b@example.org");

        assertThat(results).extracting(RecipientResult::status, RecipientResult::detail).containsExactly(
                tuple(DeliveryStatus.PERMANENT, "550 5.7.1 sender refused"),
                tuple(DeliveryStatus.PERMANENT, "550 5.7.1 sender refused"));
        assertThat(session(server).data()).isEmpty();
    }

    @Test
    void shouldPassDsnParametersOnWhenServerOffersDsn() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .ehlo("250-scripted.test\r\n250-DSN\r\n250 SIZE 1000000"));
        OutboundMessage message = new OutboundMessage("m1", "alice@relay.test", List.of("bob@example.org"),
                simpleMessage(), false, false, new Dsn("HDRS", "id+1=x", Map.of("bob@example.org",
                new Dsn.Recipient(List.of("FAILURE", "DELAY"), "rfc822;Bob@example.org"))));

        deliver(server, message);

        ScriptedSmtpServer.Session session = session(server);
        assertThat(session.command("MAIL")).isEqualTo("MAIL FROM:<alice@relay.test> SIZE=" + simpleMessage().length
                + " RET=HDRS ENVID=id+2B1+3Dx");
        assertThat(session.command("RCPT"))
                .isEqualTo("RCPT TO:<bob@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;Bob@example.org");
    }

    @Test
    void shouldDropDsnParametersWhenServerDoesNotOfferDsn() throws Exception {
        ScriptedSmtpServer server = start(new ScriptedSmtpServer());
        OutboundMessage message = new OutboundMessage("m1", "alice@relay.test", List.of("bob@example.org"),
                simpleMessage(), false, false, new Dsn("FULL", "abc", Map.of("bob@example.org",
                new Dsn.Recipient(List.of("NEVER"), null))));

        deliver(server, message);

        ScriptedSmtpServer.Session session = session(server);
        assertThat(session.command("MAIL")).doesNotContain("RET=").doesNotContain("ENVID=");
        assertThat(session.command("RCPT")).isEqualTo("RCPT TO:<bob@example.org>");
    }

    @Test
    void shouldDiscardRepliesInjectedBeforeTheTlsHandshake(@TempDir Path dir) throws Exception {
        SSLContext tls = SelfSignedTls.serverContext(dir);
        // a man in the middle (or a broken server) appends a reply to the 220: it must not count after TLS
        ScriptedSmtpServer server = start(new ScriptedSmtpServer()
                .ehlo("250-scripted.test\r\n250-8BITMIME\r\n250 STARTTLS").tls(tls)
                .starttlsInjection("\r\n550 5.5.1 injected before the handshake"));

        List<RecipientResult> results = deliver(server, simpleMessage(), "bob@example.org");

        ScriptedSmtpServer.Session session = session(server);
        assertThat(results).as(session.transcriptText()).extracting(RecipientResult::status)
                .containsExactly(DeliveryStatus.DELIVERED);
        assertThat(session.tls()).isTrue();
        // had the injected 550 been read as the answer to the second EHLO, the client would have fallen back to HELO
        assertThat(session.commands()).startsWith("EHLO delivery.test", "STARTTLS", "EHLO delivery.test")
                .noneMatch(c -> c.startsWith("HELO"));
    }

    @Test
    void shouldTryNextAddressWhenServerAnswersMailWith421() throws Exception {
        ScriptedSmtpServer closing = start(new ScriptedSmtpServer().mail("421 4.3.2 shutting down"));
        ScriptedSmtpServer good = start(new ScriptedSmtpServer());
        List<SmtpTarget> targets = List.of(
                new SmtpTarget("mx1.test", "127.0.0.1", closing.port(), TlsPolicy.OPPORTUNISTIC),
                new SmtpTarget("mx2.test", "127.0.0.1", good.port(), TlsPolicy.OPPORTUNISTIC));

        List<RecipientResult> results = client.deliver(targets, message(simpleMessage(), "bob@example.org"))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
            assertThat(r.remote()).startsWith("mx2.test");
        });
    }

    private ScriptedSmtpServer start(ScriptedSmtpServer server) throws IOException {
        servers.add(server.start());
        return server;
    }

    private static List<RecipientResult> deliver(ScriptedSmtpServer server, byte[] data, String... recipients)
            throws Exception {
        return deliver(server, message(data, recipients));
    }

    private static List<RecipientResult> deliver(ScriptedSmtpServer server, OutboundMessage message)
            throws Exception {
        SmtpTarget target = new SmtpTarget("mx.test", "127.0.0.1", server.port(), TlsPolicy.OPPORTUNISTIC);
        return client.deliver(List.of(target), message).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
    }

    private static OutboundMessage message(byte[] data, String... recipients) {
        return new OutboundMessage("m1", "alice@relay.test", List.of(recipients), data, true, false);
    }

    private static ScriptedSmtpServer.Session session(ScriptedSmtpServer server) {
        await().atMost(Duration.ofSeconds(10)).until(() -> !server.sessions().isEmpty());
        return server.sessions().get(0);
    }

    private static byte[] simpleMessage() {
        return "From: alice@relay.test\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nhello\r\n"
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static byte[] concat(Object... parts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            out.write(part instanceof byte[] b ? b : ((String) part).getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }
}
