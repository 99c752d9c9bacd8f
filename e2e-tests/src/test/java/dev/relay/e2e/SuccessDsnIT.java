package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.SmtpTestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Success DSNs across real processes (issue 15, RFC 3461 §5.2.2): a message submitted to the real ingress with
 * {@code RCPT TO:<..> NOTIFY=SUCCESS} for one recipient and no NOTIFY for another, both in the local domain, is
 * delivered to a real SMTP server (the capture MX, as the mailbox backend behind the smarthost, offering no DSN
 * extension), and exactly one RFC 3464 report reaches the sender's mailbox: {@code multipart/report;
 * report-type=delivery-status}, {@code Action: delivered}, {@code Status: 2.0.0}, for the recipient that asked
 * only. A message without NOTIFY gives no report at all.
 */
class SuccessDsnIT {

    private static final String RUN = "g-dsn-" + UUID.randomUUID().toString().substring(0, 8);
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final java.util.regex.Pattern DELIVERED_DSNS_ONE = java.util.regex.Pattern.compile(
            "relay_delivery_success_dsns_total\\{[^}]*action=\"delivered\"[^}]*\\} 1\\.0");

    private static final String ASKED = "asked-" + RUN + "@example.test";
    private static final String SILENT = "silent-" + RUN + "@example.test";
    private static final String QUIET = "quiet-" + RUN + "@example.test";
    /** The mailboxes of the local domain (any other recipient there is refused at RCPT). */
    private static final String MAILBOXES = String.join(",", "demo@example.test", ASKED, SILENT, QUIET);

    private static CaptureMx capture;
    private static RelayService ingress;
    private static RelayService policy;
    private static RelayService delivery;
    private static int submissions;

    @BeforeAll
    static void startRelay() {
        KafkaBroker kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        kafka.createCompactedTopic(RUN + ".rules");
        KeycloakServer keycloak = KeycloakServer.shared();
        capture = CaptureMx.start(0, null);
        submissions = RelayService.freePort();
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("RELAY_INGRESS_KEYCLOAK_URL", keycloak.url());
        env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(submissions));
        env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
        env.put("RELAY_RULES_TOPIC", RUN + ".rules");
        env.put("RELAY_RULES_LOCAL_RECIPIENTS", MAILBOXES);
        ingress = RelayService.start("ingress-service", env);
        policy = RelayService.start("policy-service", Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "RELAY_RULES_TOPIC", RUN + ".rules", "RELAY_RULES_LOCAL_RECIPIENTS", MAILBOXES));
        delivery = RelayService.start("delivery-service", Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port(),
                "RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true"));
    }

    @AfterAll
    static void stopRelay() {
        for (AutoCloseable c : new AutoCloseable[]{delivery, policy, ingress, capture}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort: the next one must still be stopped
            }
        }
    }

    @Test
    void shouldSendADeliveredDsnOnlyForTheRecipientThatAskedForIt() throws Exception {
        String asked = ASKED;
        String silent = SILENT;
        String quiet = QUIET;
        String withNotify = RUN + "-notify";
        String without = RUN + "-plain";

        submit(without, List.of("<" + quiet + ">"));
        submit(withNotify, List.of("<" + asked + "> NOTIFY=SUCCESS ORCPT=rfc822;" + asked, "<" + silent + ">"));

        CapturedMessage delivered = await("the message at the mailbox backend").atMost(WAIT)
                .until(() -> find(m -> !m.mailFrom().isEmpty() && text(m).contains(withNotify)), Optional::isPresent)
                .get();
        assertThat(delivered.recipients()).containsExactlyInAnyOrder(asked, silent);
        CapturedMessage dsn = await("the success DSN in the sender's mailbox").atMost(WAIT)
                .until(() -> find(m -> m.mailFrom().isEmpty() && text(m).contains(withNotify)), Optional::isPresent)
                .get();
        assertThat(dsn.recipients()).containsExactly("demo@example.test");
        String report = text(dsn);
        assertThat(report).containsIgnoringCase("Content-Type: multipart/report")
                .containsIgnoringCase("report-type=delivery-status")
                .containsIgnoringCase("Content-Type: message/delivery-status")
                .containsPattern("Final-Recipient: rfc822; ?" + java.util.regex.Pattern.quote(asked))
                .containsPattern("Original-Recipient: rfc822; ?" + java.util.regex.Pattern.quote(asked))
                .contains("Action: delivered").contains("Status: 2.0.0")
                .doesNotContainPattern("Final-Recipient: rfc822; ?" + java.util.regex.Pattern.quote(silent))
                .doesNotContain("Action: failed");

        await("the message without NOTIFY at the mailbox backend").atMost(WAIT)
                .until(() -> find(m -> !m.mailFrom().isEmpty() && text(m).contains(without)), Optional::isPresent);
        await("the delivery's count of success DSNs").atMost(WAIT).until(() -> delivery.get("/q/metrics"),
                m -> DELIVERED_DSNS_ONE.matcher(m).find());
        assertThat(capture.messages()).as("DSNs: only the one asked for")
                .filteredOn(m -> m.mailFrom().isEmpty()).hasSize(1);
        assertThat(capture.messages()).filteredOn(m -> text(m).contains(without)).hasSize(1);
    }

    /** One message through the real ingress: implicit TLS, AUTH PLAIN as demo, one RCPT per argument. */
    private static void submit(String id, List<String> rcptArguments) throws Exception {
        try (SmtpTestClient smtp = SmtpTestClient.implicitTls(submissions)) {
            assertThat(smtp.reply()).startsWith("220");
            assertThat(smtp.send("EHLO client.example")).contains("DSN");
            assertThat(smtp.authPlain("demo", "demo-password")).startsWith("235");
            assertThat(smtp.send("MAIL FROM:<demo@example.test> RET=HDRS ENVID=" + id)).startsWith("250");
            for (String rcpt : rcptArguments) {
                assertThat(smtp.send("RCPT TO:" + rcpt)).as(smtp.transcript()).startsWith("250");
            }
            assertThat(smtp.send("DATA")).startsWith("354");
            assertThat(smtp.send("From: demo@example.test\r\nTo: friends@example.test\r\nSubject: " + id
                    + "\r\nMessage-ID: <" + id + "@example.test>\r\n\r\nhello\r\n.")).as(smtp.transcript())
                    .startsWith("250");
            smtp.send("QUIT");
        }
    }

    private static Optional<CapturedMessage> find(java.util.function.Predicate<CapturedMessage> p) {
        return capture.messages().stream().filter(p).findFirst();
    }

    private static String text(CapturedMessage m) {
        return new String(m.data(), StandardCharsets.UTF_8).replaceAll("\r\n\\s+", " ");
    }
}
