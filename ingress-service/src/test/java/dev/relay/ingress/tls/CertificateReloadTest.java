package dev.relay.ingress.tls;

import dev.relay.ingress.smtp.server.SmtpServer;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Renewal of the listener certificate over real sockets: the ingress starts on port 0 with a certificate in a
 * directory laid out like a Kubernetes Secret volume, the test publishes the next pair by swapping the
 * {@code ..data} symlink and waits (generous deadline, no timing asserted) until new implicit-TLS and new STARTTLS
 * sessions present it; broken pairs must leave the served certificate in place and count as failures.
 */
@QuarkusTest
@TestProfile(CertificateReloadTest.WatchedFiles.class)
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
class CertificateReloadTest {

    static final Path VOLUME = Path.of("target", "reload-tls", "volume");
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    public static class WatchedFiles implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                if (Files.exists(VOLUME.getParent())) {
                    try (var files = Files.walk(VOLUME.getParent())) {
                        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            TestCertificates.SecretVolume volume = new TestCertificates.SecretVolume(VOLUME);
            volume.publish(TestCertificates.ec("first.example.test", Duration.ofDays(90)));
            return Map.of("relay.ingress.tls.cert-file", volume.certificateFile().toString(),
                    "relay.ingress.tls.key-file", volume.keyFile().toString(),
                    "relay.ingress.tls.reload-period", "0.1s");
        }
    }

    @Inject
    SmtpServer server;

    @TestHTTPResource("/q/metrics")
    URI metrics;

    private final TestCertificates.SecretVolume volume = new TestCertificates.SecretVolume(VOLUME);

    @Test
    void shouldServeTheRenewedCertificateToNewSessionsOnEveryListener() throws Exception {
        X509Certificate before = onDisk();
        assertThat(implicitTls()).isEqualTo(before);
        assertThat(startTls(Listener.SUBMISSION)).isEqualTo(before);
        double successes = reloads("success");

        try (SSLSocket held = trustAll().createSocketTo(server.port(Listener.SUBMISSIONS));
             PlainSession plain = new PlainSession(server.port(Listener.SUBMISSION))) {
            held.startHandshake();
            InputStream in = held.getInputStream();
            OutputStream out = held.getOutputStream();
            assertThat(reply(in)).startsWith("220 ");
            plain.ehlo();

            TestCertificates.Pem renewed = TestCertificates.ec("renewed.example.test", Duration.ofDays(90));
            volume.publish(renewed);
            await().atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() ->
                    implicitTls().equals(renewed.certificate())
                            && startTls(Listener.SUBMISSION).equals(renewed.certificate())
                            && startTls(Listener.RELAY).equals(renewed.certificate()));

            // the session that was in TLS keeps its certificate and goes on working
            assertThat(held.getSession().getPeerCertificates()[0]).isEqualTo(before);
            out.write("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(reply(in)).startsWith("250");
            // a session accepted in plain text before the renewal gets the renewed one at its STARTTLS
            assertThat(plain.startTls()).isEqualTo(renewed.certificate());

            assertThat(expiryGauge()).isEqualTo(renewed.certificate().getNotAfter().toInstant().getEpochSecond());
            assertThat(reloads("success")).isGreaterThan(successes);
        }
    }

    @Test
    void shouldKeepServingTheCertificateWhenTheRenewedPairIsBroken() throws Exception {
        TestCertificates.Pem good = TestCertificates.ec("good.example.test", Duration.ofDays(90));
        volume.publish(good);
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() ->
                implicitTls().equals(good.certificate()) && startTls(Listener.SUBMISSION).equals(good.certificate()));
        double failures = reloads("failure");

        TestCertificates.Pem other = TestCertificates.ec("other.example.test", Duration.ofDays(90));
        TestCertificates.Pem expired = TestCertificates.create("expired.example.test", "EC", 256,
                Instant.now().minus(Duration.ofDays(90)), Instant.now().minus(Duration.ofMinutes(1)),
                TestCertificates.KeyEncoding.PKCS8);
        String[][] broken = {
                {other.certificatePem(), good.keyPem()},                                        // key of another
                {other.certificatePem().substring(0, other.certificatePem().length() / 2), other.keyPem()}, // cut off
                {expired.certificatePem(), expired.keyPem()},                                   // expired
        };
        for (int i = 0; i < broken.length; i++) {
            volume.publish(broken[i][0], broken[i][1]);
            double expected = failures + i + 1;
            await().atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> reloads("failure") >= expected);
            assertThat(reloads("failure")).as("one failure per change").isEqualTo(expected);
            assertThat(implicitTls()).isEqualTo(good.certificate());
            assertThat(startTls(Listener.SUBMISSION)).isEqualTo(good.certificate());
            assertThat(startTls(Listener.RELAY)).isEqualTo(good.certificate());
        }
        assertThat(expiryGauge()).isEqualTo(good.certificate().getNotAfter().toInstant().getEpochSecond());
    }

    // ---- clients

    /** A client that trusts any certificate and resumes no session (a fresh context per connection). */
    private static final class TrustAll {
        final SSLContext context;

        TrustAll() throws Exception {
            context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[]{new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] chain, String type) {
                }

                public void checkServerTrusted(X509Certificate[] chain, String type) {
                }

                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
        }

        SSLSocket createSocketTo(int port) throws IOException {
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
            socket.setSoTimeout(15_000);
            return socket;
        }

        SSLSocket layerOver(Socket plain, int port) throws IOException {
            return (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1", port, true);
        }
    }

    private static TrustAll trustAll() throws Exception {
        return new TrustAll();
    }

    /** The certificate a new implicit-TLS session on the submissions listener is presented. */
    private X509Certificate implicitTls() throws Exception {
        try (SSLSocket socket = trustAll().createSocketTo(server.port(Listener.SUBMISSIONS))) {
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    /** The certificate a new session on a STARTTLS listener is presented after EHLO and STARTTLS. */
    private X509Certificate startTls(Listener listener) throws Exception {
        try (PlainSession session = new PlainSession(server.port(listener))) {
            session.ehlo();
            return session.startTls();
        }
    }

    private static final class PlainSession implements AutoCloseable {
        final Socket socket;
        final int port;

        PlainSession(int port) throws IOException {
            this.port = port;
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(15_000);
            assertThat(reply(socket.getInputStream())).startsWith("220 ");
        }

        void ehlo() throws IOException {
            socket.getOutputStream().write("EHLO reload-test.example\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(reply(socket.getInputStream())).contains("STARTTLS");
        }

        X509Certificate startTls() throws Exception {
            socket.getOutputStream().write("STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(reply(socket.getInputStream())).startsWith("220 ");
            try (SSLSocket tls = trustAll().layerOver(socket, port)) {
                tls.startHandshake();
                return (X509Certificate) tls.getSession().getPeerCertificates()[0];
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** One SMTP reply, all its lines. */
    private static String reply(InputStream in) throws IOException {
        StringBuilder all = new StringBuilder();
        while (true) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) != -1 && b != '\n') {
                line.write(b);
            }
            String text = line.toString(StandardCharsets.US_ASCII).replace("\r", "");
            all.append(text).append('\n');
            if (b == -1 || text.length() < 4 || text.charAt(3) != '-') {
                return all.toString();
            }
        }
    }

    // ---- files and metrics

    private static X509Certificate onDisk() throws Exception {
        try (InputStream in = Files.newInputStream(VOLUME.resolve("tls.crt"))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private String scrape() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private double reloads(String result) throws Exception {
        Matcher m = Pattern.compile("(?m)^relay_ingress_tls_reloads_total\\{[^}]*result=\"" + result
                + "\"[^}]*} (\\S+)$").matcher(scrape());
        assertThat(m.find()).as("relay_ingress_tls_reloads_total{result=%s} exposed", result).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private long expiryGauge() throws Exception {
        Matcher m = Pattern.compile("(?m)^relay_ingress_tls_certificate_expiry_seconds(\\{[^}]*})? (\\S+)$")
                .matcher(scrape());
        assertThat(m.find()).as("relay_ingress_tls_certificate_expiry_seconds exposed").isTrue();
        return (long) Double.parseDouble(m.group(2));
    }
}
