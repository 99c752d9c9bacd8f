package dev.relay.delivery.transport;

import dev.relay.delivery.auth.CredentialStore;
import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.delivery.metrics.OutboundExtensionMetrics;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.RecipientResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Interoperability of outbound AUTH with a server we did not write: Debian's aiosmtpd as the smarthost, STARTTLS
 * required, AUTH PLAIN and LOGIN offered only after TLS and required before MAIL. The delivery's client
 * authenticates with credentials read from files and the message arrives byte for byte under that login; a wrong
 * password is deferred {@code 4.7.0} with aiosmtpd's own {@code 535} in the diagnostic.
 *
 * <p>Needs {@code python3-aiosmtpd} and {@code openssl}; installs aiosmtpd with apt-get when missing (as root), and
 * is skipped with a message only when that is impossible (as {@code DkimByteExactDeliveryTest}).
 */
class AiosmtpdSmarthostAuthTest {

    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3"
            : "python3";
    private static final SmtpTimeouts TIMEOUTS =
            new SmtpTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(20));

    private static Path dir;
    private static Process smarthost;
    private static int port;
    private static Vertx vertx;
    private static SmtpClient client;

    @BeforeAll
    static void start() throws Exception {
        requireAiosmtpd();
        dir = Files.createTempDirectory("relay-aiosmtpd-auth");
        Path tool = dir.resolve("smarthost_auth.py");
        try (InputStream in = AiosmtpdSmarthostAuthTest.class.getResourceAsStream("/python/smarthost_auth.py")) {
            Files.write(tool, in.readAllBytes());
        }
        run(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out",
                "cert.pem", "-days", "2", "-subj", "/CN=localhost");
        Files.createDirectories(dir.resolve("mail"));
        smarthost = new ProcessBuilder(PYTHON, tool.toString(), "serve", dir.resolve("mail").toString(),
                dir.resolve("cert.pem").toString(), dir.resolve("key.pem").toString(), "relay-user", "s3cret pw")
                .redirectError(dir.resolve("smarthost.log").toFile()).start();
        String first = new BufferedReader(new InputStreamReader(smarthost.getInputStream(),
                StandardCharsets.US_ASCII)).readLine();
        assertThat(first).as("aiosmtpd did not start, see smarthost.log").startsWith("PORT ");
        port = Integer.parseInt(first.substring(5).strip());

        Path credentials = Files.createDirectories(dir.resolve("credentials"));
        credential(credentials, "with-plain", "plain", "s3cret pw");
        credential(credentials, "with-login", "login", "s3cret pw");
        credential(credentials, "wrong", "plain", "not the password");
        vertx = Vertx.vertx();
        client = new SmtpClient(vertx, "delivery.test", TIMEOUTS, ConnectionReuse.none(),
                new DestinationGate(vertx, DestinationLimits.unlimited()),
                new TransportMetrics(new SimpleMeterRegistry()),
                new OutboundOptions(Optional.of(new CredentialStore(vertx, credentials, Duration.ofMinutes(1))),
                        Chunking.never(), new OutboundExtensionMetrics(new SimpleMeterRegistry())));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (smarthost != null) {
            smarthost.destroy();
            smarthost.waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void shouldAuthenticateWithPlainAtAiosmtpdOverStartTls() throws Exception {
        assertDelivered("with-plain");
    }

    @Test
    void shouldAuthenticateWithLoginAtAiosmtpdOverStartTls() throws Exception {
        assertDelivered("with-login");
    }

    @Test
    void shouldDeferWhenAiosmtpdRefusesTheCredential() throws Exception {
        List<RecipientResult> results = deliver("wrong", message("refused"));

        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(r.diagnostic().enhancedStatus()).isEqualTo("4.7.0");
            assertThat(r.detail()).contains("535").doesNotContain("not the password");
        });
    }

    private void assertDelivered(String credential) throws Exception {
        String id = UUID.randomUUID().toString();
        byte[] message = message(id);

        List<RecipientResult> results = deliver(credential, message);

        assertThat(results).extracting(RecipientResult::status).containsExactly(DeliveryStatus.DELIVERED);
        assertThat(results.get(0).tlsProtocol()).startsWith("TLSv1.");
        Path stored = await().atMost(Duration.ofSeconds(20)).until(() -> storedWith(id), Optional::isPresent).get();
        assertThat(Files.readAllBytes(stored)).isEqualTo(message);
        assertThat(Files.readString(Path.of(stored.toString().replace(".eml", ".user")))).isEqualTo("relay-user");
    }

    private static List<RecipientResult> deliver(String credential, byte[] message) throws Exception {
        SmtpTarget target = new SmtpTarget("localhost", "127.0.0.1", port, TlsPolicy.REQUIRED, credential);
        return client.deliver(List.of(target), new OutboundMessage("m-" + credential, "app@relay.test",
                List.of("bob@example.org"), message, true, false)).toCompletionStage().toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
    }

    private static Optional<Path> storedWith(String id) throws IOException {
        try (var files = Files.list(dir.resolve("mail"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".eml")).toList()) {
                if (new String(Files.readAllBytes(f), StandardCharsets.UTF_8).contains(id)) {
                    return Optional.of(f);
                }
            }
        }
        return Optional.empty();
    }

    private static byte[] message(String id) {
        return ("From: app@relay.test\r\nTo: bob@example.org\r\nSubject: " + id + "\r\n\r\n"
                + "Grüße via aiosmtpd\r\n.a dot line\r\n").getBytes(StandardCharsets.UTF_8);
    }

    private static void credential(Path dir, String name, String mechanism, String password) throws IOException {
        Path home = Files.createDirectories(dir.resolve(name));
        Files.writeString(home.resolve("mechanism"), mechanism + "\n");
        Files.writeString(home.resolve("username"), "relay-user\n");
        Files.writeString(home.resolve("password"), password + "\n");
    }

    private static void run(Path cwd, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
    }

    /** Installs python3-aiosmtpd when missing; skips the test only when that is impossible. */
    private static void requireAiosmtpd() throws Exception {
        List<List<String>> attempts = new ArrayList<>();
        attempts.add(List.of("apt-get", "install", "-y", "python3-aiosmtpd"));
        attempts.add(List.of("apt-get", "update"));
        attempts.add(List.of("apt-get", "install", "-y", "python3-aiosmtpd"));
        for (List<String> command : attempts) {
            if (toolsPresent()) {
                return;
            }
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
                pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
                Process p = pb.start();
                p.getInputStream().readAllBytes();
                p.waitFor(600, TimeUnit.SECONDS);
            } catch (IOException e) {
                break; // no apt-get here
            }
        }
        Assumptions.assumeTrue(toolsPresent(), "python3-aiosmtpd or openssl is not installed and could not be "
                + "installed (apt-get needs root and a package mirror): skipping the aiosmtpd AUTH interop test");
    }

    private static boolean toolsPresent() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import aiosmtpd.smtp; from aiosmtpd.smtp import AuthResult")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 && Files.isExecutable(Path.of("/usr/bin/openssl"));
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
