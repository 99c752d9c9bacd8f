package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayRoot;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Applications as Keycloak clients through the whole relay (issue 16, ADR 0017): the dev realm's {@code demo-app}
 * (confidential client, service account with the relay role, senders {@code @apps.example.test} from its client's
 * mapper) submits with swaks' AUTH PLAIN and with its own client-credentials access token over XOAUTH2 (Angus Mail)
 * and OAUTHBEARER (Python's smtplib); {@code demo-app-norole} authenticates but may not relay. Shared Kafka and
 * Keycloak, the three services as processes, a capture MX as the smarthost.
 */
class ApplicationSubmissionIT {

    private static final String SWAKS_HINT = "install it with `apt-get install -y swaks libnet-ssleay-perl`"
            + " (./relay test does this)";
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static KafkaBroker kafka;
    private static CaptureMx capture;
    private static RelayService ingress;
    private static RelayService policy;
    private static RelayService delivery;
    private static int submissionPort;
    private static int submissionsPort;

    @BeforeAll
    static void startRelay() {
        CompletableFuture<KeycloakServer> keycloak = CompletableFuture.supplyAsync(KeycloakServer::shared);
        kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        // the default rules, on a topic of this class's own: another test's rule set must not decide here
        String rulesTopic = "i1-apps-" + RUN + ".rules";
        kafka.createCompactedTopic(rulesTopic);
        capture = CaptureMx.start(0, null);
        submissionPort = RelayService.freePort();
        submissionsPort = RelayService.freePort();
        CompletableFuture<RelayService> p = CompletableFuture.supplyAsync(() -> RelayService.start("policy-service",
                Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(), "RELAY_RULES_TOPIC", rulesTopic)));
        CompletableFuture<RelayService> d = CompletableFuture.supplyAsync(() -> RelayService.start("delivery-service",
                Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                        "RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port(),
                        "RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true")));
        CompletableFuture<RelayService> i = keycloak.thenApplyAsync(kc -> {
            Map<String, String> env = new HashMap<>();
            env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
            env.put("RELAY_INGRESS_KEYCLOAK_URL", kc.url());
            env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(RelayService.freePort()));
            env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(submissionPort));
            env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(submissionsPort));
            env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
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

    // ------------------------------------------------------------------------------------------------ AUTH PLAIN

    @Test
    void swaksShouldRelayAsTheDemoApplicationWithItsClientIdAndSecret() {
        String marker = "app-plain-" + RUN;
        ExternalTool.Result swaks = swaks("--port", String.valueOf(submissionPort), "--tls",
                "--auth", "PLAIN", "--auth-user", "demo-app", "--auth-password", "demo-app-secret",
                "--from", "billing@apps.example.test", "--to", "customer@example.net",
                "--header", "From: Billing <billing@apps.example.test>", "--header", "X-Interop-Id: " + marker);
        assertThat(swaks.exitCode()).as(swaks.describe()).isZero();
        assertThat(swaks.output()).as(swaks.describe()).contains("<~  235 2.7.0");
        CapturedMessage received = awaitCaptured(marker, swaks.describe());
        assertThat(received.mailFrom()).isEqualTo("billing@apps.example.test");
        assertThat(received.recipients()).containsExactly("customer@example.net");
        assertThat(received.dataAsString()).contains("with ESMTPSA id ");
    }

    @Test
    void swaksShouldBeRefusedAnEnvelopeSenderOutsideTheApplicationsSenders() {
        ExternalTool.Result swaks = swaks("--port", String.valueOf(submissionPort), "--tls",
                "--auth", "PLAIN", "--auth-user", "demo-app", "--auth-password", "demo-app-secret",
                "--from", "demo@example.test", "--to", "customer@example.net");
        assertThat(swaks.exitCode()).as(swaks.describe()).isNotZero();
        assertThat(swaks.output()).as(swaks.describe()).contains("<~  235 2.7.0").contains("<~* 553 5.7.1");
    }

    @Test
    void swaksShouldBeRefusedAHeaderFromOutsideTheApplicationsSenders() {
        String marker = "app-header-from-" + RUN;
        ExternalTool.Result swaks = swaks("--port", String.valueOf(submissionPort), "--tls",
                "--auth", "PLAIN", "--auth-user", "demo-app", "--auth-password", "demo-app-secret",
                "--from", "billing@apps.example.test", "--to", "customer@example.net",
                "--header", "From: The CEO <ceo@example.test>", "--header", "X-Interop-Id: " + marker);
        assertThat(swaks.exitCode()).as(swaks.describe()).isNotZero();
        assertThat(swaks.output()).as(swaks.describe()).contains("<~* 550 5.7.1");
        assertThat(capture.messages()).noneMatch(m -> m.dataAsString().contains(marker));
    }

    @Test
    void swaksShouldBeRefusedAtRcptForAnApplicationWithoutTheRelayRole() {
        ExternalTool.Result swaks = swaks("--port", String.valueOf(submissionPort), "--tls",
                "--auth", "PLAIN", "--auth-user", "demo-app-norole", "--auth-password", "demo-app-norole-secret",
                "--from", "billing@apps.example.test", "--to", "customer@example.net");
        assertThat(swaks.exitCode()).as(swaks.describe()).isNotZero();
        assertThat(swaks.output()).as(swaks.describe()).contains("<~  235 2.7.0")
                .contains("<~* 554 5.7.1 Relay access denied");
    }

    @Test
    void swaksShouldBeRefusedWith535ForAWrongClientSecret() {
        ExternalTool.Result swaks = swaks("--port", String.valueOf(submissionPort), "--tls",
                "--auth", "PLAIN", "--auth-user", "demo-app", "--auth-password", "not-the-secret",
                "--from", "billing@apps.example.test", "--to", "customer@example.net");
        assertThat(swaks.exitCode()).as(swaks.describe()).isNotZero();
        assertThat(swaks.output()).as(swaks.describe()).contains("<~* 535 5.7.8").doesNotContain("MAIL FROM");
    }

    // ------------------------------------------------------------------------------------- XOAUTH2 / OAUTHBEARER

    @Test
    void shouldRelayWithTheApplicationsClientCredentialsTokenOverXoauth2() throws Exception {
        String token = clientCredentialsToken("demo-app", "demo-app-secret");
        String marker = "app-xoauth2-" + RUN;
        Properties props = new Properties();
        props.put("mail.smtp.host", "127.0.0.1");
        props.put("mail.smtp.port", String.valueOf(submissionPort));
        props.put("mail.smtp.starttls.enable", "true");
        props.put("mail.smtp.starttls.required", "true");
        props.put("mail.smtp.ssl.trust", "*");
        props.put("mail.smtp.ssl.checkserveridentity", "false");
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtp.auth.mechanisms", "XOAUTH2");
        props.put("mail.smtp.connectiontimeout", "10000");
        props.put("mail.smtp.timeout", "30000");
        Session session = Session.getInstance(props);
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress("reports@apps.example.test"));
        message.setRecipients(Message.RecipientType.TO, "customer@example.net");
        message.setSubject("XOAUTH2 with a client-credentials token");
        message.setHeader("X-Interop-Id", marker);
        message.setText("sent by an application\r\n");
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect("demo-app", token);
            transport.sendMessage(message, message.getAllRecipients());
        }
        CapturedMessage received = awaitCaptured(marker, "Angus Mail XOAUTH2 as demo-app");
        assertThat(received.mailFrom()).isEqualTo("reports@apps.example.test");
    }

    @Test
    void smtplibShouldRelayWithTheApplicationsClientCredentialsTokenOverOauthbearer() throws Exception {
        ExternalTool.require("python3", "--version", "install it with `apt-get install -y python3`");
        String token = clientCredentialsToken("demo-app", "demo-app-secret");
        String marker = "app-oauthbearer-" + RUN;
        byte[] message = ("From: <alerts@apps.example.test>\r\nTo: <ops@example.net>\r\n"
                + "Subject: OAUTHBEARER with a client-credentials token\r\nX-Interop-Id: " + marker + "\r\n\r\n"
                + "sent by an application\r\n").getBytes(StandardCharsets.US_ASCII);
        Path file = RelayRoot.get().resolve("e2e-tests/target/interop/" + marker + ".eml");
        Files.createDirectories(file.getParent());
        Files.write(file, message);
        Path script = Path.of(ApplicationSubmissionIT.class.getResource("/interop/smtplib_client.py").toURI());
        ExternalTool.Result python = ExternalTool.run(Duration.ofSeconds(60), "python3", script.toString(),
                "127.0.0.1", String.valueOf(submissionsPort), "ssl", "demo-app", token, "alerts@apps.example.test",
                "ops@example.net", file.toString(), "OAUTHBEARER");
        assertThat(python.exitCode()).as(python.describe()).isZero();
        assertThat(python.output()).as(python.describe()).contains("login: 235");
        assertThat(awaitCaptured(marker, python.describe()).mailFrom()).isEqualTo("alerts@apps.example.test");
    }

    // -------------------------------------------------------------------------------------------------- helpers

    private static ExternalTool.Result swaks(String... args) {
        ExternalTool.require("swaks", "--version", SWAKS_HINT);
        List<String> command = new ArrayList<>(List.of("swaks", "--server", "127.0.0.1", "--helo", "app.interop.test",
                "--timeout", "30", "--auth-hide-password"));
        command.addAll(Arrays.asList(args));
        return ExternalTool.run(Duration.ofSeconds(60), command.toArray(String[]::new));
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

    private static CapturedMessage awaitCaptured(String marker, String context) {
        return await("message " + marker + " at the capture MX; the client's side:\n" + context)
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> capture.messages().stream()
                        .filter(m -> m.dataAsString().contains(marker)).findFirst().orElse(null), m -> m != null);
    }
}
