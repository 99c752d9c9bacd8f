package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayRoot;
import io.vertx.core.Vertx;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.StartTLSOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The synthetic probe (issue 17, ADR 0022) through the whole relay: the delivery service, probe on with a short
 * interval, takes a token of the realm's {@code relay-probe} client, submits with STARTTLS and XOAUTH2
 * (vertx-mail-client) to the real ingress, follows the events to {@code delivered} and exports success and latency;
 * the discard route leaves nothing at the capture MX (the smarthost). And a Vert.x application (vertx-mail-client)
 * submitting with the {@code demo-app}'s client-credentials token over XOAUTH2, relayed to the capture MX.
 * Shared Kafka and Keycloak, the three services as processes.
 */
class ProbeIT {

    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static KafkaBroker kafka;
    private static CaptureMx capture;
    private static RelayService ingress;
    private static RelayService policy;
    private static RelayService delivery;
    private static int submissionPort;
    private static Path ingressCertificate;

    @BeforeAll
    static void startRelay() {
        KeycloakServer keycloak = KeycloakServer.shared();
        kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        String rulesTopic = "p-probe-" + RUN + ".rules";
        kafka.createCompactedTopic(rulesTopic);
        capture = CaptureMx.start(0, null);
        submissionPort = RelayService.freePort();
        Path tlsDir = RelayRoot.get().resolve("e2e-tests/target/run/p-probe-tls-" + RUN);
        ingressCertificate = tlsDir.resolve("dev-cert.pem");
        CompletableFuture<RelayService> p = CompletableFuture.supplyAsync(() -> RelayService.start("policy-service",
                Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(), "RELAY_RULES_TOPIC", rulesTopic)));
        CompletableFuture<RelayService> d = CompletableFuture.supplyAsync(() -> {
            Map<String, String> env = new HashMap<>();
            env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
            env.put("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port());
            env.put("RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true");
            env.put("RELAY_PROBE_ENABLED", "true");
            env.put("RELAY_PROBE_INTERVAL", "2s");
            env.put("RELAY_PROBE_TIMEOUT", "30s");
            env.put("RELAY_PROBE_SUBMISSION_HOST", "127.0.0.1");
            env.put("RELAY_PROBE_SUBMISSION_PORT", String.valueOf(submissionPort));
            env.put("RELAY_PROBE_TRUST_CERTIFICATE", ingressCertificate.toString());
            env.put("RELAY_PROBE_TOKEN_URL", keycloak.tokenEndpoint());
            env.put("RELAY_PROBE_CLIENT_SECRET", "relay-probe-secret");
            return RelayService.start("delivery-service", env);
        });
        CompletableFuture<RelayService> i = CompletableFuture.supplyAsync(() -> {
            Map<String, String> env = new HashMap<>();
            env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
            env.put("RELAY_INGRESS_KEYCLOAK_URL", keycloak.url());
            env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(RelayService.freePort()));
            env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(submissionPort));
            env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(RelayService.freePort()));
            env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
            env.put("RELAY_INGRESS_TLS_DEV_CERTIFICATE_DIR", tlsDir.toString());
            env.put("RELAY_RULES_TOPIC", rulesTopic);
            return RelayService.start("ingress-service", env);
        });
        RuntimeException failure = null;
        for (CompletableFuture<RelayService> service : List.of(p, d, i)) {
            try {
                RelayService started = service.join();
                if (service == p) {
                    policy = started;
                } else if (service == d) {
                    delivery = started;
                } else {
                    ingress = started;
                }
            } catch (CompletionException e) {
                failure = failure != null ? failure
                        : e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            }
        }
        if (failure != null) {
            stopRelay();
            throw failure;
        }
    }

    @AfterAll
    static void stopRelay() {
        for (AutoCloseable c : new AutoCloseable[]{ingress, policy, delivery, capture}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort: the next one must still be stopped
            }
        }
        ingress = null;
        policy = null;
        delivery = null;
        capture = null;
    }

    @Test
    void probeShouldReportSuccessAndLatencyAndLeaveNothingAtTheCaptureMx() throws Exception {
        await("a successful probe in the delivery's metrics; delivery log:\n" + delivery.logTail())
                .atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1))
                .until(() -> metric("relay_probe_runs_total{outcome=\"success\",stage=\"delivered\"") >= 1);
        String metrics = metricsText();
        assertThat(metric(metrics, "relay_probe_latency_seconds_count")).isGreaterThanOrEqualTo(1);
        assertThat(metric(metrics, "relay_probe_latency_seconds_sum")).isPositive();
        assertThat(metric(metrics, "relay_probe_last_success_timestamp_seconds"))
                .isGreaterThan(System.currentTimeMillis() / 1000.0 - 600);
        assertThat(capture.messages()).as("probe mail at the smarthost")
                .noneMatch(m -> m.recipients().stream().anyMatch(r -> r.endsWith("@discard.relay.invalid"))
                        || m.dataAsString().contains("Relay synthetic probe"));
    }

    @Test
    void aVertxApplicationShouldRelayWithItsClientCredentialsTokenOverXoauth2() throws Exception {
        String token = clientCredentialsToken("demo-app", "demo-app-secret");
        String marker = "p-vertx-xoauth2-" + RUN;
        Vertx vertx = Vertx.vertx();
        try {
            MailClient client = MailClient.create(vertx, new MailConfig()
                    .setHostname("127.0.0.1")
                    .setPort(submissionPort)
                    .setStarttls(StartTLSOptions.REQUIRED)
                    .setLogin(LoginOption.XOAUTH2)
                    .setAuthMethods("XOAUTH2")
                    .setUsername("demo-app")
                    .setPassword(token)
                    .setOwnHostname("vertx-app.interop.test")
                    .setPemTrustOptions(new PemTrustOptions().addCertPath(ingressCertificate.toString())));
            MailMessage message = new MailMessage()
                    .setFrom("invoices@apps.example.test")
                    .setTo("customer@example.net")
                    .setSubject("XOAUTH2 from a Vert.x application")
                    .setText("sent by a Vert.x application\r\n")
                    .addHeader("X-Interop-Id", marker);
            client.sendMail(message).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            client.close();
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        CapturedMessage received = await("message " + marker + " at the capture MX")
                .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> capture.messages().stream().filter(m -> m.dataAsString().contains(marker))
                        .findFirst().orElse(null), m -> m != null);
        assertThat(received.mailFrom()).isEqualTo("invoices@apps.example.test");
        assertThat(received.recipients()).containsExactly("customer@example.net");
        assertThat(received.dataAsString()).contains("with ESMTPSA id ");
    }

    private static String metricsText() throws Exception {
        return delivery.get("/q/metrics");
    }

    private static double metric(String prefix) throws Exception {
        return metric(metricsText(), prefix);
    }

    /** The sum of the Prometheus samples whose line starts with {@code prefix} (name and leading labels). */
    private static double metric(String text, String prefix) {
        double sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** The application's own access token: a client-credentials grant, as the application would request it. */
    private static String clientCredentialsToken(String clientId, String secret) throws Exception {
        String form = "grant_type=client_credentials&client_id=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8)
                + "&client_secret=" + URLEncoder.encode(secret, StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create(KeycloakServer.shared().tokenEndpoint()))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).get("access_token").asText();
    }
}
