package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.DkimKeyFiles;
import dev.relay.testkit.Dkimpy;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.SmtpTestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * DKIM signing through the whole relay (issue 15): a message submitted with AUTH over the submission port is
 * signed by the policy service and arrives at a capture MX, where Debian's dkimpy — a verifier we did not write —
 * verifies every signature against the TXT values of the keys this test generated: RSA-2048 and Ed25519 together
 * (relaxed/relaxed, a folded header, an 8-bit body), and simple/simple with an expiry. A signing rule whose key is
 * not there yet holds the message (nothing arrives unsigned); once the key file appears it is signed and delivered.
 * A changed body fails verification, so the check can fail.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DkimSigningIT {

    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String RULES = """
            {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
             "localRecipients":[{"domain":"example.test","mailboxes":["demo"]}],
             "dkim":[{"domain":"example.test","selectors":["rsa1","ed1"]},
                     {"domain":"apps.example.test","selector":"late1","canonicalization":"simple/simple",
                      "expire":"7d"}]}""";

    private static RelayCluster relay;
    private static CaptureMx capture;
    private static Path keysDir;
    private static KeyPair rsa;
    private static KeyPair ed;
    private static int submissionPort;

    @BeforeAll
    static void start() throws Exception {
        Dkimpy.python(); // fails at once, with how to install it, when dkimpy is missing
        CompletableFuture<KeycloakServer> keycloak = CompletableFuture.supplyAsync(KeycloakServer::shared);
        KafkaBroker kafka = KafkaBroker.shared();
        relay = new RelayCluster(kafka.bootstrapServers(), keycloak.join().url());
        relay.createTopics();
        capture = CaptureMx.start(0, null);

        Path work = Files.createDirectories(Path.of("target", "dkim-" + RUN)).toAbsolutePath();
        keysDir = work.resolve("keys");
        rsa = DkimKeyFiles.rsa(2048);
        ed = DkimKeyFiles.ed25519();
        DkimKeyFiles.write(keysDir, "example.test", "rsa1", rsa.getPrivate());
        DkimKeyFiles.write(keysDir, "example.test", "ed1", ed.getPrivate());
        Path rules = Files.writeString(work.resolve("rules.json"), RULES);

        submissionPort = RelayService.freePort();
        Map<String, String> ingressEnv = relay.ingressEnv(RelayService.freePort(), submissionPort,
                RelayService.freePort());
        Map<String, String> policyEnv = relay.policyEnv();
        policyEnv.put("RELAY_POLICY_RULES_FILE", rules.toString());
        policyEnv.put("RELAY_POLICY_DKIM_KEYS_DIR", keysDir.toString());
        policyEnv.put("RELAY_POLICY_DKIM_RELOAD_PERIOD", "1s");
        policyEnv.put("RELAY_POLICY_LIMITS_RECHECK", "1s");
        Map<String, String> deliveryEnv = relay.deliveryEnv();
        deliveryEnv.put("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port() + ";internal");
        // the policy first: it seeds the rules topic from the file, which the ingress then follows
        relay.launch("policy-service", "policy", policyEnv, RelayService.freePort()).awaitReady(Duration.ofSeconds(120));
        List<RelayInstance> others = List.of(
                relay.launch("ingress-service", "ingress", ingressEnv, RelayService.freePort()),
                relay.launch("delivery-service", "delivery", deliveryEnv, RelayService.freePort()));
        for (RelayInstance instance : others) {
            instance.awaitReady(Duration.ofSeconds(120));
        }
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (capture != null) {
            capture.close();
        }
    }

    @Test
    @Order(1)
    void shouldArriveWithRsaAndEd25519SignaturesThatDkimpyVerifies() throws Exception {
        String marker = "dkim-dual-" + RUN;
        submit("demo@example.test", "From: Demo Sender <demo@example.test>\r\n"
                + "To: someone@remote.example\r\n"
                + "Subject: signed on the organisation's behalf,\r\n"
                + "\tfolded over two lines  " + marker + "\r\n"
                + "Date: Thu, 03 Dec 2026 16:00:00 +0000\r\n"
                + "Message-ID: <" + marker + "@example.test>\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n"
                + "Gr\u00fc\u00dfe aus der Relay-Welt,  with  spaces   \r\n"
                + "\r\n"
                + "\u00e7a marche.\r\n");
        byte[] received = awaitCaptured(marker).data();
        Map<String, String> txt = Map.of(
                Dkimpy.recordName("rsa1", "example.test"), DkimKeyFiles.txt(rsa.getPublic()),
                Dkimpy.recordName("ed1", "example.test"), DkimKeyFiles.txt(ed.getPublic()));

        Dkimpy.Result result = Dkimpy.verify(received, txt);
        assertThat(result.verified()).as(result.output()).isTrue();
        assertThat(result.passed()).containsExactly("example.test/rsa1/rsa-sha256", "example.test/ed1/ed25519-sha256");

        // the check can fail: one changed byte of the body breaks both signatures
        byte[] changed = received.clone();
        changed[new String(received, StandardCharsets.ISO_8859_1).lastIndexOf("marche")] = (byte) 'M';
        Dkimpy.Result broken = Dkimpy.verify(changed, txt);
        assertThat(broken.verified()).as(broken.output()).isFalse();
        assertThat(broken.passed()).isEmpty();
    }

    @Test
    @Order(2)
    void shouldHoldAMessageUntilItsSigningKeyExistsThenDeliverItSigned() throws Exception {
        String marker = "dkim-late-" + RUN;
        submit("app@apps.example.test", "From: app@apps.example.test\r\n"
                + "To: someone@remote.example\r\n"
                + "Subject: " + marker + "\r\n"
                + "\r\n"
                + "held until the key exists\r\n");
        // the rule names a key that is not there: held, and nothing arrives unsigned
        Thread.sleep(5_000);
        assertThat(capture.messages()).noneMatch(m -> m.dataAsString().contains(marker));

        KeyPair late = DkimKeyFiles.ed25519();
        DkimKeyFiles.write(keysDir, "apps.example.test", "late1", late.getPrivate());
        byte[] received = awaitCaptured(marker).data();
        Dkimpy.Result result = Dkimpy.verify(received, Map.of(Dkimpy.recordName("late1", "apps.example.test"),
                DkimKeyFiles.txt(late.getPublic())));
        assertThat(result.verified()).as(result.output()).isTrue();
        String text = new String(received, StandardCharsets.UTF_8);
        assertThat(text).contains("c=simple/simple", " x=");
        assertThat(Arrays.asList(text.split("\r\n"))).filteredOn(l -> l.startsWith("DKIM-Signature:")).hasSize(1);
    }

    private static void submit(String mailFrom, String message) throws IOException {
        try (SmtpTestClient smtp = new SmtpTestClient(submissionPort)) {
            expect(smtp, smtp.reply(), "220");
            expect(smtp, smtp.send("EHLO dkim.example"), "250");
            expect(smtp, smtp.startTls(), "220");
            expect(smtp, smtp.send("EHLO dkim.example"), "250");
            expect(smtp, smtp.authPlain("demo", "demo-password"), "235");
            expect(smtp, smtp.send("MAIL FROM:<" + mailFrom + "> BODY=8BITMIME"), "250");
            expect(smtp, smtp.send("RCPT TO:<someone@remote.example>"), "250");
            expect(smtp, smtp.send("DATA"), "354");
            expect(smtp, smtp.send(message + "."), "250");
            smtp.send("QUIT");
        }
    }

    private static CapturedMessage awaitCaptured(String marker) {
        await(marker + " at the capture MX").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> capture.messages().stream().anyMatch(m -> m.dataAsString().contains(marker)));
        return capture.messages().stream().filter(m -> m.dataAsString().contains(marker)).findFirst().orElseThrow();
    }

    private static void expect(SmtpTestClient smtp, String reply, String code) {
        assertThat(reply).as(smtp.transcript()).startsWith(code);
    }
}
