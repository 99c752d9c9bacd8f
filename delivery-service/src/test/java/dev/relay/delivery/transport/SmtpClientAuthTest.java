package dev.relay.delivery.transport;

import dev.relay.delivery.auth.CredentialStore;
import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.delivery.metrics.OutboundExtensionMetrics;
import dev.relay.delivery.metrics.OutboundExtensionMetrics.AuthResult;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mx.NextHopSpec;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * AUTH towards a smarthost or route (PLAIN, LOGIN, XOAUTH2) over real sockets against {@link SubmissionServer},
 * with credentials read from files as a mounted Secret gives them. A refused or unusable credential defers every
 * recipient with {@code 4.7.0} (the message stays queued) and the credential is never sent without TLS.
 */
class SmtpClientAuthTest {

    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(10));
    private static final byte[] MESSAGE = "Subject: auth\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);

    private static Vertx vertx;
    private static SSLContext tls;

    @TempDir
    Path credentials;
    private OutboundExtensionMetrics metrics;
    private SmtpClient client;
    private final List<SubmissionServer> servers = new ArrayList<>();

    @BeforeAll
    static void startVertx(@TempDir Path keys) throws Exception {
        vertx = Vertx.vertx();
        tls = SelfSignedTls.serverContext(keys);
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @BeforeEach
    void newClient() {
        client = client(ConnectionReuse.none());
    }

    @AfterEach
    void stop() throws Exception {
        client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        for (SubmissionServer server : servers) {
            server.close();
        }
    }

    @Test
    void shouldAuthenticateWithPlainOverTls() throws Exception {
        credential("provider", "plain", "relay@example.net", "s3cret pass");
        SubmissionServer server = start(new SubmissionServer().tls(tls).user("relay@example.net", "s3cret pass"));

        List<RecipientResult> results = deliver(target(server, "provider"));

        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        String auth = server.commands().stream().filter(c -> c.startsWith("AUTH ")).findFirst().orElseThrow();
        assertThat(auth).startsWith("AUTH PLAIN ");
        assertThat(new String(Base64.getDecoder().decode(auth.substring(11)), StandardCharsets.UTF_8))
                .isEqualTo("\0relay@example.net\0s3cret pass");
        assertThat(server.commands()).startsWith("EHLO delivery.test", "STARTTLS", "EHLO delivery.test");
        assertThat(server.messages()).singleElement().satisfies(m -> {
            assertThat(m.user()).isEqualTo("relay@example.net");
            assertThat(m.data()).isEqualTo(MESSAGE);
        });
        assertThat(metrics.authCount("plain", AuthResult.SUCCESS)).isEqualTo(1);
    }

    @Test
    void shouldAuthenticateWithLoginChallenges() throws Exception {
        credential("legacy", "login", "relay", "pässword");
        SubmissionServer server = start(new SubmissionServer().tls(tls).mechanisms("LOGIN")
                .user("relay", "pässword"));

        List<RecipientResult> results = deliver(target(server, "legacy"));

        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        assertThat(server.commands()).contains("AUTH LOGIN");
        assertThat(server.messages()).singleElement().satisfies(m -> assertThat(m.user()).isEqualTo("relay"));
        assertThat(metrics.authCount("login", AuthResult.SUCCESS)).isEqualTo(1);
    }

    @Test
    void shouldAuthenticateWithXoauth2Token() throws Exception {
        credential("m365", "xoauth2", "relay@example.net", null, "ya29.token-value");
        SubmissionServer server = start(new SubmissionServer().tls(tls).mechanisms("LOGIN", "XOAUTH2")
                .token("relay@example.net", "ya29.token-value"));

        List<RecipientResult> results = deliver(target(server, "m365"));

        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        String auth = server.commands().stream().filter(c -> c.startsWith("AUTH ")).findFirst().orElseThrow();
        assertThat(new String(Base64.getDecoder().decode(auth.substring("AUTH XOAUTH2 ".length())),
                StandardCharsets.UTF_8)).isEqualTo("user=relay@example.net\u0001auth=Bearer ya29.token-value\u0001\u0001");
        assertThat(metrics.authCount("xoauth2", AuthResult.SUCCESS)).isEqualTo(1);
    }

    @Test
    void shouldDeferWhenXoauth2TokenIsRefused() throws Exception {
        credential("m365", "xoauth2", "relay@example.net", null, "expired-token");
        SubmissionServer server = start(new SubmissionServer().tls(tls).mechanisms("XOAUTH2")
                .token("relay@example.net", "fresh-token"));

        List<RecipientResult> results = deliver(target(server, "m365"));

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.diagnostic().enhancedStatus()).isEqualTo("4.7.0");
            assertThat(r.diagnostic().phase()).isEqualTo(Phase.AUTH);
            assertThat(r.detail()).contains("535 5.7.8");
        });
        // the error challenge was answered with an empty line, and the session ended without a transaction
        assertThat(server.commands()).contains("");
        assertThat(server.saw("MAIL")).isFalse();
        assertThat(metrics.authCount("xoauth2", AuthResult.FAILURE)).isEqualTo(1);
    }

    @Test
    void shouldDeferAndCountWhenTheServerRefusesTheCredential() throws Exception {
        credential("provider", "plain", "relay@example.net", "wrong");
        SubmissionServer server = start(new SubmissionServer().tls(tls).user("relay@example.net", "right"));

        List<RecipientResult> results = deliver(target(server, "provider"));

        assertThat(results).singleElement().satisfies(r -> {
            // our credential, not the sender's fault: transient, so the message stays queued for a retry
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.diagnostic().code()).isEqualTo(454);
            assertThat(r.diagnostic().enhancedStatus()).isEqualTo("4.7.0");
            assertThat(r.detail()).contains("credential provider").contains("535 5.7.8")
                    .doesNotContain("wrong");
        });
        assertThat(server.saw("MAIL")).isFalse();
        assertThat(server.messages()).isEmpty();
        assertThat(metrics.authCount("plain", AuthResult.FAILURE)).isEqualTo(1);
    }

    @Test
    void shouldNeverSendTheCredentialWithoutTls() throws Exception {
        credential("provider", "plain", "relay@example.net", "s3cret");
        // a careless server: no STARTTLS, AUTH offered in plain text
        SubmissionServer server = start(new SubmissionServer().authBeforeTls().user("relay@example.net", "s3cret"));
        // a target that asks for opportunistic TLS only (the route table raises it; this checks the last line)
        SmtpTarget opportunistic = new SmtpTarget("smtp.test", "127.0.0.1", server.port(), TlsPolicy.OPPORTUNISTIC,
                "provider");

        List<RecipientResult> results = deliver(opportunistic);

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.diagnostic().enhancedStatus()).isEqualTo("4.7.0");
            assertThat(r.detail()).contains("not encrypted");
        });
        assertThat(server.saw("AUTH")).as(server.commands().toString()).isFalse();
        assertThat(server.commands()).noneMatch(c -> c.contains(Base64.getEncoder().encodeToString(
                "\0relay@example.net\0s3cret".getBytes(StandardCharsets.UTF_8))));
        assertThat(metrics.authCount("plain", AuthResult.NO_TLS)).isEqualTo(1);
    }

    @Test
    void shouldRequireTlsForAHopWithACredential() throws Exception {
        credential("provider", "plain", "relay@example.net", "s3cret");
        SubmissionServer server = start(new SubmissionServer().authBeforeTls().user("relay@example.net", "s3cret"));
        NextHopSpec hop = NextHopSpec.parse("127.0.0.1:" + server.port() + ";auth=provider");

        List<RecipientResult> results = deliver(new SmtpTarget("smtp.test", "127.0.0.1", server.port(), hop.tls(),
                hop.auth()));

        assertThat(hop.tls()).isEqualTo(TlsPolicy.REQUIRED);
        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).contains("STARTTLS not offered");
        });
        assertThat(server.saw("AUTH")).isFalse();
    }

    @Test
    void shouldDeferWhenTheMechanismIsNotOffered() throws Exception {
        credential("m365", "xoauth2", "relay@example.net", null, "token");
        SubmissionServer server = start(new SubmissionServer().tls(tls).mechanisms("PLAIN", "LOGIN"));

        List<RecipientResult> results = deliver(target(server, "m365"));

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.diagnostic().enhancedStatus()).isEqualTo("4.7.0");
            assertThat(r.detail()).contains("AUTH XOAUTH2").contains("not offered").contains("PLAIN LOGIN");
        });
        assertThat(server.saw("AUTH")).isFalse();
        assertThat(metrics.authCount("xoauth2", AuthResult.NOT_OFFERED)).isEqualTo(1);
    }

    @Test
    void shouldCloseOnAChallengeBeyondTheReplyBoundsWithoutSendingTheCredential() throws Exception {
        credential("legacy", "login", "relay", "s3cret");
        SubmissionServer server = start(new SubmissionServer().tls(tls).mechanisms("LOGIN").user("relay", "s3cret")
                .loginChallenge("A".repeat(ReplyParser.MAX_LINE + 10)));

        List<RecipientResult> results = deliver(target(server, "legacy"));

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.detail()).contains("longer than " + ReplyParser.MAX_LINE);
        });
        assertThat(server.commands()).contains("AUTH LOGIN")
                .doesNotContain(Base64.getEncoder().encodeToString("relay".getBytes(StandardCharsets.UTF_8)));
        assertThat(server.saw("MAIL")).isFalse();
    }

    @Test
    void shouldDeferWithoutConnectingWhenTheCredentialIsMissing() throws Exception {
        SubmissionServer server = start(new SubmissionServer().tls(tls));

        List<RecipientResult> results = deliver(target(server, "not-mounted"));

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.diagnostic().enhancedStatus()).isEqualTo("4.7.0");
            assertThat(r.detail()).contains("credential not-mounted not available");
        });
        assertThat(server.connections()).isZero();
    }

    @Test
    void shouldNeverReuseAnAuthenticatedSessionForAnotherCredential() throws Exception {
        client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        client = client(new ConnectionReuse(10, Duration.ofSeconds(30)));
        credential("tenant-a", "plain", "a@example.net", "pa");
        credential("tenant-b", "plain", "b@example.net", "pb");
        SubmissionServer server = start(new SubmissionServer().tls(tls).user("a@example.net", "pa")
                .user("b@example.net", "pb"));

        deliver(target(server, "tenant-a"));
        deliver(target(server, "tenant-a"));
        deliver(target(server, "tenant-b"));

        assertThat(server.messages()).extracting(SubmissionServer.Received::user)
                .containsExactly("a@example.net", "a@example.net", "b@example.net");
        // tenant-a's second message reused its session; tenant-b got a session of its own
        assertThat(server.connections()).isEqualTo(2);
        assertThat(server.count("AUTH")).isEqualTo(2);
    }

    // ---------------------------------------------------------------------------------------------------------

    private SmtpClient client(ConnectionReuse reuse) {
        metrics = new OutboundExtensionMetrics(new SimpleMeterRegistry());
        OutboundOptions options = new OutboundOptions(
                java.util.Optional.of(new CredentialStore(vertx, credentials, Duration.ofMinutes(1))),
                Chunking.never(), metrics);
        return new SmtpClient(vertx, "delivery.test", TIMEOUTS, reuse,
                new DestinationGate(vertx, DestinationLimits.unlimited()),
                new TransportMetrics(new SimpleMeterRegistry()), options);
    }

    private SubmissionServer start(SubmissionServer server) throws IOException {
        servers.add(server);
        return server.start();
    }

    private static SmtpTarget target(SubmissionServer server, String credential) {
        return new SmtpTarget("localhost", "127.0.0.1", server.port(), TlsPolicy.REQUIRED, credential);
    }

    private List<RecipientResult> deliver(SmtpTarget target) throws Exception {
        return client.deliver(List.of(target), new OutboundMessage("m1", "app@relay.test", List.of("bob@example.org"),
                MESSAGE, false, false)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private void credential(String name, String mechanism, String user, String password) throws IOException {
        credential(name, mechanism, user, password, null);
    }

    /** As a Secret volume mounts it, with the trailing newline {@code echo} leaves. */
    private void credential(String name, String mechanism, String user, String password, String token)
            throws IOException {
        Path dir = Files.createDirectories(credentials.resolve(name));
        Files.writeString(dir.resolve("mechanism"), mechanism + "\n");
        Files.writeString(dir.resolve("username"), user + "\n");
        if (password != null) {
            Files.writeString(dir.resolve("password"), password + "\n");
        }
        if (token != null) {
            Files.writeString(dir.resolve("token"), token + "\n");
        }
    }
}
