package dev.relay.delivery;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Byte-exact delivery of an 8-bit, DKIM-signed message to a receiver we did not write, through the whole delivery
 * service: a record on the real {@code relay.outbound.v1} → the service → Debian's aiosmtpd, which stores the DATA
 * bytes. The message is signed with dkimpy (simple/simple canonicalization: any changed byte, header or body,
 * breaks the signature) and the signature is verified on what the receiver stored, with the public key handed to
 * dkimpy instead of DNS. The bytes are also compared exactly.
 *
 * <p>Needs {@code python3-aiosmtpd} and {@code python3-dkim}; installs them with apt-get when missing (as root),
 * and is skipped with a message only when that is impossible.
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
class DkimByteExactDeliveryTest {

    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3"
            : "python3";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TestHTTPResource("/q/metrics")
    URL metrics;

    private static Path dir;
    private static Path tool;
    private static Process receiver;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        requireDebianTools();
        dir = Files.createTempDirectory("relay-dkim-test");
        tool = dir.resolve("receiver_and_dkim.py");
        try (InputStream in = DkimByteExactDeliveryTest.class.getResourceAsStream("/python/receiver_and_dkim.py")) {
            Files.write(tool, in.readAllBytes());
        }
        Files.createDirectories(dir.resolve("mail"));
        receiver = new ProcessBuilder(PYTHON, tool.toString(), "serve", dir.resolve("mail").toString())
                .redirectError(dir.resolve("receiver.log").toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(receiver.getInputStream(),
                StandardCharsets.US_ASCII));
        String first = out.readLine();
        assertThat(first).as("aiosmtpd did not start, see receiver.log").startsWith("PORT ");
        port = Integer.parseInt(first.substring(5).strip());
        run(dir, "dknewkey", "relaytest");
    }

    @AfterAll
    static void stop() throws Exception {
        if (receiver != null) {
            receiver.destroy();
            receiver.waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void shouldDeliverDkimSignedEightBitMessageByteForByteToAiosmtpd() throws Exception {
        String id = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        String rcpt = "dkim+" + id + "@example.org";
        Files.write(dir.resolve(id + ".eml"), unsigned(id, rcpt));
        run(dir, PYTHON, tool.toString(), "sign", "relaytest.key", "relaytest", "relay.test", id + ".eml",
                id + ".signed");
        byte[] signed = Files.readAllBytes(dir.resolve(id + ".signed"));
        assertThat(verify(dir.resolve(id + ".signed"))).as("signature of the original").isTrue();

        produce(id, rcpt, signed);

        Path stored = await().atMost(WAIT).until(() -> storedFor(rcpt), p -> p != null);
        byte[] received = Files.readAllBytes(stored);
        assertThat(received).as("bytes stored by aiosmtpd").isEqualTo(signed);
        assertThat(verify(stored)).as("DKIM signature verified at the receiver").isTrue();
        // the verifier can fail: one changed body byte breaks the signature
        byte[] tampered = received.clone();
        tampered[tampered.length - 3] ^= 0x01;
        Files.write(dir.resolve(id + ".tampered"), tampered);
        assertThat(verify(dir.resolve(id + ".tampered"))).isFalse();
        // the transport's metrics are on the service's Prometheus endpoint
        assertThat(scrape()).contains("relay_delivery_connections_opened_total")
                .contains("relay_delivery_connections_open ")
                .contains("relay_delivery_connections_reused_total")
                .containsPattern("relay_delivery_tls_total\\{cipher=\"none\",protocol=\"none\"} [1-9]")
                .contains("relay_delivery_dns_lookups_total{result=\"servfail\",type=\"mx\"}")
                .contains("relay_delivery_destinations_backoff ");
    }

    private String scrape() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(metrics.toString())).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** CRLF, UTF-8 and a raw Latin-1 byte in headers and body, lines starting with dots, a long line. */
    private static byte[] unsigned(String id, String rcpt) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(("Received: from client.test ([192.0.2.10]) by relay.test with ESMTPSA id " + id + "\r\n"
                + "From: Ålice <alice@relay.test>\r\nTo: <" + rcpt + ">\r\nSubject: Grüße aus Köln " + id + "\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n\r\n"
                + "Grüße aus Köln, ½ € 日本語\r\n.a line that starts with a dot\r\n.\r\n..\r\n"
                + "x".repeat(900) + "\r\n\t tab and trailing spaces   \r\n").getBytes(StandardCharsets.UTF_8));
        out.write(new byte[]{'L', 'a', 't', 'i', 'n', '-', '1', ':', ' ', (byte) 0xE9, (byte) 0xFC, '\r', '\n'});
        out.write("last line\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static void produce(String id, String rcpt, byte[] body) throws Exception {
        Route route = new Route("example.org", Route.Kind.STATIC, "127.0.0.1", port, "none");
        Envelope envelope = new Envelope(Envelope.VERSION, id, System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, null, "alice@relay.test", List.of(rcpt), false, "8BITMIME",
                body.length, route, 0);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.OUTBOUND, id + ":" + route.hopKey(),
                body);
        record.headers().add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        String bootstrap = ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(record).get(30, TimeUnit.SECONDS);
        }
    }

    private static Path storedFor(String rcpt) throws IOException {
        try (var files = Files.list(dir.resolve("mail"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".rcpt")).toList()) {
                if (Files.readString(p).contains(rcpt)) {
                    Path eml = Path.of(p.toString().replace(".rcpt", ".eml"));
                    return Files.exists(eml) ? eml : null;
                }
            }
        }
        return null;
    }

    private static boolean verify(Path message) throws Exception {
        Path txt = dir.resolve("relaytest.dns");
        Process p = new ProcessBuilder(PYTHON, tool.toString(), "verify", txt.toString(), message.toString())
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return p.exitValue() == 0;
    }

    private static void run(Path cwd, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + output).isZero();
    }

    /** Installs python3-aiosmtpd and python3-dkim when missing; skips the test only when that is impossible. */
    private static void requireDebianTools() throws Exception {
        if (toolsPresent()) {
            return;
        }
        List<List<String>> attempts = new ArrayList<>();
        attempts.add(List.of("apt-get", "install", "-y", "python3-aiosmtpd", "python3-dkim"));
        attempts.add(List.of("apt-get", "update"));
        attempts.add(List.of("apt-get", "install", "-y", "python3-aiosmtpd", "python3-dkim"));
        for (List<String> command : attempts) {
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
                pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
                Process p = pb.start();
                p.getInputStream().readAllBytes();
                p.waitFor(600, TimeUnit.SECONDS);
            } catch (IOException e) {
                break; // no apt-get here
            }
            if (toolsPresent()) {
                return;
            }
        }
        Assumptions.assumeTrue(toolsPresent(), "python3-aiosmtpd and python3-dkim are not installed and could not "
                + "be installed (apt-get needs root and a package mirror): skipping the DKIM byte-exact test");
    }

    private static boolean toolsPresent() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import aiosmtpd, dkim").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 && Files.isExecutable(Path.of("/usr/bin/dknewkey"));
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
