package dev.relay.e2e;

import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.SmtpTestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A rule changed through the policy's admin API reaches the running ingress within seconds, without a restart:
 * real ingress and policy processes, the real Kafka rules topic, tokens from the real Keycloak (authorised by its
 * Authorization Services). Topics of this class's own, so no other test's records or rules interfere.
 */
class RulesApiIT {

    private static final String RUN = "rules-api-" + UUID.randomUUID().toString().substring(0, 8);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String BLOCKED = "someone@blocked.example";
    private static final String DENY_BLOCKED = """
            {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
             "recipients":{"deny":["@blocked.example"]}}""";
    private static final String ALLOW_ALL = """
            {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"]}""";

    private static KeycloakServer keycloak;
    private static RelayInstance ingress;
    private static RelayInstance policy;
    private static int submissionPort;

    @BeforeAll
    static void startRelay() {
        KafkaBroker kafka = KafkaBroker.shared();
        kafka.createCompactedTopic(RUN + ".rules");
        kafka.createTopics(List.of(RUN + ".inbound", RUN + ".outbound", RUN + ".events", RUN + ".dlq"), 3);
        keycloak = KeycloakServer.shared();
        submissionPort = RelayService.freePort();

        Map<String, String> common = new HashMap<>();
        common.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        common.put("RELAY_RULES_TOPIC", RUN + ".rules");

        Map<String, String> policyEnv = new HashMap<>(common);
        policyEnv.put("RELAY_POLICY_KEYCLOAK_URL", keycloak.url());
        policyEnv.put("RELAY_POLICY_TOPICS_INBOUND", RUN + ".inbound");
        policyEnv.put("RELAY_POLICY_TOPICS_OUTBOUND", RUN + ".outbound");
        policyEnv.put("RELAY_POLICY_TOPICS_EVENTS", RUN + ".events");
        policyEnv.put("RELAY_POLICY_TOPICS_DLQ", RUN + ".dlq");
        policyEnv.put("MP_MESSAGING_INCOMING_INBOUND_GROUP_ID", RUN);
        // the policy creates and seeds the rules topic; start it first so the ingress reads the stored rules
        policy = RelayInstance.launch("policy-service", "policy", RUN, policyEnv, RelayService.freePort())
                .awaitReady(Duration.ofSeconds(90));

        Map<String, String> ingressEnv = new HashMap<>(common);
        ingressEnv.put("RELAY_INGRESS_KEYCLOAK_URL", keycloak.url());
        ingressEnv.put("RELAY_INGRESS_PUBLISH_TOPIC", RUN + ".inbound");
        ingressEnv.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(RelayService.freePort()));
        ingressEnv.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(submissionPort));
        ingressEnv.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(RelayService.freePort()));
        ingressEnv.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
        ingress = RelayInstance.launch("ingress-service", "ingress", RUN, ingressEnv, RelayService.freePort())
                .awaitReady(Duration.ofSeconds(90));
    }

    @AfterAll
    static void stopRelay() {
        for (RelayInstance instance : new RelayInstance[] {ingress, policy}) {
            if (instance != null) {
                instance.close();
            }
        }
    }

    @Test
    void shouldRefuseAtRcptWithinSecondsOfARuleChangedThroughTheApiWithoutRestart() throws Exception {
        String admin = keycloak.browserLogin("relay-admin-cli", "relayadmin", "relayadmin-password");
        HttpResponse<String> current = api("GET", admin, null, null);
        assertThat(current.statusCode()).isEqualTo(200);
        // start from rules that let demo relay anywhere, replacing exactly what we read
        HttpResponse<String> open = api("PUT", admin, ALLOW_ALL, current.headers().firstValue("ETag").orElseThrow());
        assertThat(open.statusCode()).as(open.body()).isEqualTo(200);
        await("ingress follows the open rules").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> rcpt(BLOCKED).startsWith("250"));
        assertThat(sendTo(BLOCKED)).as("relayed before the change").startsWith("250");
        long ingressPid = ingress.pid();
        long policyPid = policy.pid();

        HttpResponse<String> deny = api("PUT", admin, DENY_BLOCKED, open.headers().firstValue("ETag").orElseThrow());
        assertThat(deny.statusCode()).as(deny.body()).isEqualTo(200);
        String revision = deny.headers().firstValue("ETag").orElseThrow().replace("\"", "");
        long changed = System.nanoTime();
        await("ingress refuses at RCPT after the change").atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(100)).until(() -> rcpt(BLOCKED).startsWith("554 5.7.1"));
        long seconds = Duration.ofNanos(System.nanoTime() - changed).toSeconds();
        assertThat(seconds).as("seconds from PUT to the first 554 at RCPT").isLessThan(5);
        assertThat(rcpt("friend@remote.example")).as("other domains still relay").startsWith("250");
        assertThat(ingress.pid()).isEqualTo(ingressPid);
        assertThat(policy.pid()).isEqualTo(policyPid);
        assertThat(ingress.isAlive()).isTrue();
        assertThat(RelayInstance.metric(ingress.get("/q/metrics"), "relay_rules_revision", ""))
                .isEqualTo(Double.parseDouble(revision));
        assertThat(RelayInstance.metric(policy.get("/q/metrics"), "relay_rules_revision", ""))
                .isEqualTo(Double.parseDouble(revision));

        // an identity without the permission cannot undo it
        String demo = keycloak.browserLogin("relay-admin-cli", "demo", "demo-password");
        assertThat(api("PUT", demo, ALLOW_ALL, null).statusCode()).isEqualTo(403);
        assertThat(api("PUT", null, ALLOW_ALL, null).statusCode()).isEqualTo(401);
        HttpResponse<String> after = api("GET", admin, null, null);
        assertThat(after.headers().firstValue("ETag")).hasValue("\"" + revision + "\"");
        assertThat(after.body()).contains("@blocked.example");
        assertThat(rcpt(BLOCKED)).startsWith("554 5.7.1");
    }

    private static HttpResponse<String> api(String method, String token, String body, String ifMatch)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + policy.httpPort() + "/api/rules"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (ifMatch != null) {
            request.header("If-Match", ifMatch);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A fresh authenticated submission session; the reply to RCPT TO for {@code recipient}. */
    private static String rcpt(String recipient) throws IOException {
        try (SmtpTestClient smtp = authenticated()) {
            String reply = smtp.send("RCPT TO:<" + recipient + ">");
            smtp.send("QUIT");
            return reply;
        }
    }

    /** A whole message to {@code recipient}; the reply to the end of DATA (or the first refusal). */
    private static String sendTo(String recipient) throws IOException {
        try (SmtpTestClient smtp = authenticated()) {
            String reply = smtp.send("RCPT TO:<" + recipient + ">");
            if (!reply.startsWith("250")) {
                return reply;
            }
            reply = smtp.send("DATA");
            if (!reply.startsWith("354")) {
                return reply;
            }
            reply = smtp.send("From: demo@example.test\r\nTo: " + recipient + "\r\nSubject: " + RUN
                    + "\r\n\r\nbefore the rule change\r\n.");
            smtp.send("QUIT");
            return reply;
        }
    }

    /** EHLO, STARTTLS, EHLO, AUTH PLAIN as demo and MAIL FROM, each expected to succeed. */
    private static SmtpTestClient authenticated() throws IOException {
        SmtpTestClient smtp = new SmtpTestClient(submissionPort);
        try {
            expect(smtp, smtp.reply(), "220");
            expect(smtp, smtp.send("EHLO rules-api.example"), "250");
            expect(smtp, smtp.startTls(), "220");
            expect(smtp, smtp.send("EHLO rules-api.example"), "250");
            expect(smtp, smtp.authPlain("demo", "demo-password"), "235");
            expect(smtp, smtp.send("MAIL FROM:<demo@example.test>"), "250");
            return smtp;
        } catch (IOException | AssertionError e) {
            smtp.close();
            throw e;
        }
    }

    private static void expect(SmtpTestClient smtp, String reply, String code) {
        assertThat(reply).as(smtp.transcript()).startsWith(code);
    }
}
