package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayRoot;
import dev.relay.testkit.SmtpTestClient;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Interoperability with SMTP clients we did not write (swaks, Python's smtplib) and an open-relay test of every
 * listener, against the whole relay: shared Kafka and Keycloak, the three services as processes, and a capture MX
 * as the smarthost that stands in for the internet.
 *
 * <p>swaks and python3 must be installed ({@code ./relay test} installs them); when one is missing its tests fail
 * and say how to install it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InteropIT {

    private static final String SWAKS_HINT = "install it with `apt-get install -y swaks libnet-ssleay-perl`"
            + " (./relay test does this)";
    private static final String PYTHON_HINT = "install it with `apt-get install -y python3` (./relay test does this)";
    /** Unique per run, so that records of other runs on the shared broker are never mistaken for ours. */
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    private static final String ATTACKER_HELO = "attacker-" + RUN + ".example";
    /** The domains an open relay would relay to in the open-relay test; nothing for them may leave the ingress. */
    private static final Pattern RELAYED = Pattern.compile("remote\\.example|\\[127\\.0\\.0\\.1]",
            Pattern.CASE_INSENSITIVE);

    /** {@code -Dinterop.transcripts=true}: print every dialogue, also when it passes. */
    private static final boolean SHOW = Boolean.getBoolean("interop.transcripts");

    private static KafkaBroker kafka;
    private static CaptureMx capture;
    private static RelayService ingress;
    private static RelayService policy;
    private static RelayService delivery;
    private static int relayPort;
    private static int submissionPort;
    private static int submissionsPort;

    @BeforeAll
    static void startRelay() {
        CompletableFuture<KeycloakServer> keycloak = CompletableFuture.supplyAsync(KeycloakServer::shared);
        kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        // rules of this class's own: a rule set another test (or an earlier run on a reused broker) left on
        // relay.rules.v1 must not decide what this open-relay test sees
        String rulesTopic = "interop-" + RUN + ".rules";
        kafka.createCompactedTopic(rulesTopic);
        capture = CaptureMx.start(0, null);
        relayPort = RelayService.freePort();
        submissionPort = RelayService.freePort();
        submissionsPort = RelayService.freePort();
        // the three start side by side: on 2 cores this is still faster than one after the other
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
            env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(relayPort));
            env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(submissionPort));
            env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(submissionsPort));
            env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
            env.put("RELAY_RULES_TOPIC", rulesTopic);
            return RelayService.start("ingress-service", env);
        });
        RuntimeException failure = null;
        try {
            policy = p.join();
        } catch (CompletionException e) {
            failure = unwrap(e);
        }
        try {
            delivery = d.join();
        } catch (CompletionException e) {
            failure = failure == null ? unwrap(e) : failure;
        }
        try {
            ingress = i.join();
        } catch (CompletionException e) {
            failure = failure == null ? unwrap(e) : failure;
        }
        if (failure != null) {
            stopRelay();
            throw failure;
        }
    }

    private static RuntimeException unwrap(CompletionException e) {
        return e.getCause() instanceof RuntimeException r ? r : e;
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

    // ---------------------------------------------------------------------------------------------------- swaks

    @Test
    @Order(1)
    void swaksShouldSubmitOverStartTlsWithAuthPlain() {
        String marker = "swaks-starttls-" + RUN;
        ExternalTool.Result swaks = swaks("--server", "127.0.0.1", "--port", String.valueOf(submissionPort),
                "--tls", "--auth", "PLAIN", "--auth-user", "demo", "--auth-password", "demo-password",
                "--from", "demo@example.test", "--to", "someone@example.net",
                "--header", "Subject: swaks STARTTLS AUTH PLAIN", "--header", "X-Interop-Id: " + marker);

        assertThat(swaks.exitCode()).as(swaks.describe()).isZero();
        assertThat(swaks.output()).as(swaks.describe())
                .contains("-> STARTTLS", "<-  220 2.0.0", "~> AUTH PLAIN", "<~  235 2.7.0",
                        "250 2.0.0 Ok: queued as");
        assertCaptured(marker, swaks, "someone@example.net", "ESMTPSA");
    }

    @Test
    @Order(2)
    void swaksShouldSubmitOverImplicitTlsWithAuthLogin() {
        String marker = "swaks-tlsc-" + RUN;
        ExternalTool.Result swaks = swaks("--server", "127.0.0.1", "--port", String.valueOf(submissionsPort),
                "--tlsc", "--auth", "LOGIN", "--auth-user", "demo", "--auth-password", "demo-password",
                "--from", "demo@example.test", "--to", "someone@example.net",
                "--header", "Subject: swaks implicit TLS AUTH LOGIN", "--header", "X-Interop-Id: " + marker);

        assertThat(swaks.exitCode()).as(swaks.describe()).isZero();
        assertThat(swaks.output()).as(swaks.describe())
                .contains("<~  220 ", "~> AUTH LOGIN", "<~  235 2.7.0", "250 2.0.0 Ok: queued as")
                .doesNotContain("-> EHLO"); // nothing in plain text
        assertCaptured(marker, swaks, "someone@example.net", "ESMTPSA");
    }

    /** Last of the class: a failed login must not disturb the other tests (Keycloak brute-force detection). */
    @Test
    @Order(99)
    void swaksShouldBeRefusedWith535ForAWrongPassword() {
        String marker = "swaks-wrong-password-" + RUN;
        ExternalTool.Result swaks = swaks("--server", "127.0.0.1", "--port", String.valueOf(submissionPort),
                "--tls", "--auth", "PLAIN", "--auth-user", "demo", "--auth-password", "wrong-password",
                "--from", "demo@example.test", "--to", "someone@example.net",
                "--header", "X-Interop-Id: " + marker);

        assertThat(swaks.exitCode()).as(swaks.describe()).isNotZero();
        assertThat(swaks.output()).as(swaks.describe()).contains("<~* 535 5.7.8").doesNotContain("MAIL FROM");
        assertThat(capture.messages()).noneMatch(m -> m.dataAsString().contains(marker));
    }

    private static ExternalTool.Result swaks(String... args) {
        ExternalTool.require("swaks", "--version", SWAKS_HINT);
        String support = ExternalTool.run(Duration.ofSeconds(20), "swaks", "--support").output();
        assertThat(support).as("swaks without TLS support (Net::SSLeay missing): " + SWAKS_HINT)
                .contains("TLS supported");
        List<String> command = new ArrayList<>(List.of("swaks", "--helo", "swaks.interop.test", "--timeout", "30",
                "--auth-hide-password"));
        command.addAll(Arrays.asList(args));
        return show(ExternalTool.run(Duration.ofSeconds(60), command.toArray(String[]::new)));
    }

    // -------------------------------------------------------------------------------------------- Python smtplib

    @Test
    @Order(3)
    void smtplibShouldSubmitEightBitBytesUnchangedOverStartTls() throws Exception {
        smtplibRoundTrip("starttls", submissionPort, null);
    }

    @Test
    @Order(4)
    void smtplibShouldSubmitEightBitBytesUnchangedOverImplicitTlsWithAuthLogin() throws Exception {
        smtplibRoundTrip("ssl", submissionsPort, "LOGIN");
    }

    /** RFC 7628 with a Keycloak access token, through smtplib's generic auth(): a SASL client we did not write. */
    @Test
    void smtplibShouldAuthenticateWithAKeycloakAccessTokenOverOauthbearer() throws Exception {
        smtplibRoundTrip("ssl", submissionsPort, "OAUTHBEARER");
    }

    private void smtplibRoundTrip(String mode, int port, String mechanism) throws Exception {
        ExternalTool.require("python3", "--version", PYTHON_HINT);
        String marker = "smtplib-" + mode + "-" + (mechanism == null ? "login" : mechanism) + "-" + RUN;
        String secret = "OAUTHBEARER".equals(mechanism)
                ? KeycloakServer.shared().passwordGrant("relay-ingress", "relay-ingress-dev-secret", "demo",
                "demo-password")
                : "demo-password";
        byte[] message = ("From: Demo <demo@example.test>\r\n"
                + "To: <friend@python.example>\r\n"
                + "Subject: smtplib " + mode + " 8-bit\r\n"
                + "Message-ID: <" + marker + "@interop.test>\r\n"
                + "X-Interop-Id: " + marker + "\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n"
                + "Grüße aus Python — naïve café, 8-bit ✓ 日本語 🙂\r\n"
                + ".a line that starts with a dot\r\n"
                + "..and one with two\r\n"
                + "a line with only a dot follows\r\n"
                + ".\r\n"
                + "trailing spaces   \r\n"
                + "\tand a tab\r\n"
                + "end\r\n").getBytes(StandardCharsets.UTF_8);
        Path file = RelayRoot.get().resolve("e2e-tests/target/interop/" + marker + ".eml");
        Files.createDirectories(file.getParent());
        Files.write(file, message);

        List<String> command = new ArrayList<>(List.of("python3", script().toString(), "127.0.0.1",
                String.valueOf(port), mode, "demo", secret, "demo@example.test", "friend@python.example",
                file.toString()));
        if (mechanism != null) {
            command.add(mechanism);
        }
        ExternalTool.Result python = show(ExternalTool.run(Duration.ofSeconds(60), command.toArray(String[]::new)));
        assertThat(python.exitCode()).as(python.describe()).isZero();
        assertThat(python.output()).as(python.describe()).contains("login: 235", "sent " + message.length + " bytes");

        CapturedMessage received = awaitCaptured(marker, python.describe());
        assertThat(received.recipients()).as(python.describe()).containsExactly("friend@python.example");
        assertThat(received.mailFrom()).isEqualTo("demo@example.test");
        byte[] data = received.data();
        assertThat(data.length).as("captured %s", received).isGreaterThan(message.length);
        byte[] rest = Arrays.copyOfRange(data, data.length - message.length, data.length);
        assertThat(new String(rest, StandardCharsets.UTF_8))
                .as("what smtplib sent arrives after Relay's Received: header, byte for byte")
                .isEqualTo(new String(message, StandardCharsets.UTF_8));
        assertThat(rest).isEqualTo(message);
        String trace = new String(data, 0, data.length - message.length, StandardCharsets.UTF_8);
        assertThat(trace).startsWith("Received: from smtplib.interop.test ").contains("with ESMTPSA id ");
    }

    private static Path script() throws URISyntaxException {
        return Path.of(InteropIT.class.getResource("/interop/smtplib_client.py").toURI());
    }

    // ------------------------------------------------------------------------------------------------ open relay

    /** How a client reaches the ingress. */
    private enum Entry {
        RELAY_PLAIN("relay port, plain text"),
        RELAY_STARTTLS("relay port after STARTTLS"),
        SUBMISSION_STARTTLS("submission port after STARTTLS"),
        SUBMISSIONS_TLS("submissions port (implicit TLS)");

        final String description;

        Entry(String description) {
            this.description = description;
        }

        boolean submission() {
            return this == SUBMISSION_STARTTLS || this == SUBMISSIONS_TLS;
        }
    }

    /**
     * One classic relay trick. {@code relayReply} is the reply expected at RCPT on the relay port (README, "Address
     * handling": routing constructs 553 5.1.3, bad syntax 501 5.1.3; docs/architecture.md, guarantee 2: relay refused 554 5.7.1).
     */
    private record Trick(String name, String mailFrom, String rcpt, String relayReply) {
    }

    private static final List<Trick> TRICKS = List.of(
            new Trick("plain remote recipient", "attacker@outside.example", "victim@remote.example", "554 5.7.1"),
            new Trick("%-hack", "attacker@outside.example", "victim%remote.example@example.test", "553 5.1.3"),
            new Trick("bang path", "attacker@outside.example", "remote.example!victim@example.test", "553 5.1.3"),
            new Trick("source route", "attacker@outside.example", "@example.test:victim@remote.example",
                    "553 5.1.3"),
            new Trick("quoted local part with @", "attacker@outside.example", "\"victim@remote.example\"@example.test",
                    "553 5.1.3"),
            new Trick("address literal", "attacker@outside.example", "victim@[127.0.0.1]", "553 5.1.3"),
            new Trick("trailing dot", "attacker@outside.example", "victim@remote.example.", "501 5.1.3"),
            new Trick("upper-case domain", "attacker@outside.example", "victim@REMOTE.EXAMPLE", "554 5.7.1"),
            new Trick("two @", "attacker@outside.example", "victim@example.test@remote.example", "553 5.1.3"),
            new Trick("spoofed local sender", "postmaster@example.test", "victim@remote.example", "554 5.7.1"));

    /**
     * Every trick on every listener without authentication, each in its own session; then an authenticated user
     * without the relay role; then proof that nothing reached relay.inbound.v1 / relay.outbound.v1 / the capture MX
     * for the remote domain (a legitimate canary message sent afterwards shows the pipeline was working).
     */
    @TestFactory
    @Order(5)
    List<DynamicNode> shouldNotBeAnOpenRelay() {
        Map<TopicPartition, Long> inboundStart = TopicRecords.endOffsets(kafka.bootstrapServers(), "relay.inbound.v1");
        Map<TopicPartition, Long> outboundStart = TopicRecords.endOffsets(kafka.bootstrapServers(),
                "relay.outbound.v1");
        List<DynamicNode> nodes = new ArrayList<>();
        for (Entry entry : Entry.values()) {
            nodes.add(DynamicContainer.dynamicContainer(entry.description + ", without AUTH", TRICKS.stream().map(trick ->
                    DynamicTest.dynamicTest(trick.name() + " <" + trick.rcpt() + ">", () -> attempt(entry, trick)))));
        }
        nodes.add(DynamicContainer.dynamicContainer("authenticated without the smtp-relay role", List.of(
                DynamicTest.dynamicTest("submission port, STARTTLS, AUTH PLAIN",
                        () -> norelay(Entry.SUBMISSION_STARTTLS)),
                DynamicTest.dynamicTest("submissions port, implicit TLS, AUTH LOGIN",
                        () -> norelay(Entry.SUBMISSIONS_TLS)))));
        nodes.add(DynamicTest.dynamicTest("nothing was relayed to the remote domain",
                () -> nothingRelayed(inboundStart, outboundStart)));
        return nodes;
    }

    private void attempt(Entry entry, Trick trick) throws IOException {
        try (SmtpTestClient smtp = open(entry, ATTACKER_HELO)) {
            String mail = smtp.send("MAIL FROM:<" + trick.mailFrom() + ">");
            String rcpt = smtp.send("RCPT TO:<" + trick.rcpt() + ">");
            String data = smtp.send("DATA");
            if (data.startsWith("354")) {
                smtp.send("Subject: open relay test\r\n\r\nif you read this, Relay is an open relay\r\n.");
            }
            smtp.send("QUIT");
            String transcript = entry.description + ", without AUTH, " + trick.name() + ":\n" + smtp.transcript();
            show(transcript);

            // the security property first: refused at MAIL or RCPT, and DATA has nothing to send
            assertThat(mail.startsWith("5") || rcpt.startsWith("5")).as("refused at MAIL or RCPT\n" + transcript)
                    .isTrue();
            assertThat(rcpt).as("RCPT must never be accepted\n" + transcript).doesNotStartWith("2");
            assertThat(data).as("DATA must be refused\n" + transcript).startsWith("5");
            // then the exact replies
            if (entry.submission()) {
                assertThat(mail).as(transcript).startsWith("530 5.7.0");
                assertThat(rcpt).as(transcript).startsWith("503 5.5.1");
            } else {
                if (!trick.mailFrom().endsWith("@example.test")) {
                    // the MX role: anyone may send to the local domains, so any sender is fine at MAIL
                    assertThat(mail).as(transcript).startsWith("250 ");
                }
                if (mail.startsWith("250")) {
                    assertThat(rcpt).as(transcript).startsWith(trick.relayReply());
                }
            }
            assertThat(data).as(transcript).startsWith("503 5.5.1");
        }
    }

    private void norelay(Entry entry) throws IOException {
        try (SmtpTestClient smtp = open(entry, "norelay-" + RUN + ".example")) {
            String auth = entry == Entry.SUBMISSIONS_TLS ? smtp.authLogin("norelay", "norelay-password")
                    : smtp.authPlain("norelay", "norelay-password");
            String mail = smtp.send("MAIL FROM:<norelay@example.test>");
            String remote = smtp.send("RCPT TO:<victim@remote.example>");
            String local = smtp.send("RCPT TO:<postmaster@example.test>");
            smtp.send("RSET");
            smtp.send("QUIT");
            String transcript = entry.description + ", AUTH as norelay (no smtp-relay role):\n" + smtp.transcript();
            show(transcript);
            assertThat(auth).as(transcript).startsWith("235 2.7.0");
            assertThat(mail).as(transcript).startsWith("250 ");
            assertThat(remote).as(transcript).startsWith("554 5.7.1");
            assertThat(local).as(transcript).startsWith("250 ");
        }
    }

    /** Connects as {@code entry} says, reads the greeting and says EHLO (again after STARTTLS). */
    private static SmtpTestClient open(Entry entry, String helo) throws IOException {
        SmtpTestClient smtp = switch (entry) {
            case RELAY_PLAIN, RELAY_STARTTLS -> SmtpTestClient.plain(relayPort);
            case SUBMISSION_STARTTLS -> SmtpTestClient.plain(submissionPort);
            case SUBMISSIONS_TLS -> SmtpTestClient.implicitTls(submissionsPort);
        };
        try {
            assertThat(smtp.reply()).as(smtp.transcript()).startsWith("220 ");
            String ehlo = smtp.send("EHLO " + helo);
            assertThat(ehlo).as(smtp.transcript()).startsWith("250");
            if (entry == Entry.RELAY_STARTTLS || entry == Entry.SUBMISSION_STARTTLS) {
                assertThat(ehlo).as("AUTH is never offered in plain text\n" + smtp.transcript())
                        .contains("STARTTLS").doesNotContain("AUTH");
                assertThat(smtp.startTls()).as(smtp.transcript()).startsWith("220 2.0.0");
                assertThat(smtp.send("EHLO " + helo)).as(smtp.transcript()).startsWith("250")
                        .contains("AUTH PLAIN LOGIN").doesNotContain("STARTTLS");
            }
            return smtp;
        } catch (IOException | RuntimeException | Error e) {
            smtp.close();
            throw e;
        }
    }

    private void nothingRelayed(Map<TopicPartition, Long> inboundStart, Map<TopicPartition, Long> outboundStart)
            throws IOException {
        // a legitimate message afterwards: once it has been delivered, anything accepted before it had its chance
        String canary = "canary-" + RUN;
        try (SmtpTestClient smtp = open(Entry.RELAY_PLAIN, canary + ".example")) {
            assertThat(smtp.send("MAIL FROM:<someone@outside.example>")).as(smtp.transcript()).startsWith("250 ");
            assertThat(smtp.send("RCPT TO:<postmaster@example.test>")).as(smtp.transcript()).startsWith("250 ");
            assertThat(smtp.send("DATA")).as(smtp.transcript()).startsWith("354");
            assertThat(smtp.send("Subject: canary\r\nX-Interop-Id: " + canary + "\r\n\r\nafter the relay tricks\r\n."))
                    .as(smtp.transcript()).startsWith("250 2.0.0");
            smtp.send("QUIT");
        }
        awaitCaptured(canary, "the canary after the open-relay attempts");

        List<TopicRecords.Entry> inbound = TopicRecords.since(kafka.bootstrapServers(), "relay.inbound.v1",
                inboundStart);
        List<TopicRecords.Entry> outbound = TopicRecords.since(kafka.bootstrapServers(), "relay.outbound.v1",
                outboundStart);
        assertThat(outbound).as("the canary went through relay.outbound.v1 (so the scan sees records)")
                .anyMatch(r -> r.envelope().contains(canary));
        assertThat(inbound).as("nothing from the attack sessions was accepted")
                .noneMatch(r -> r.envelope().contains(ATTACKER_HELO))
                .noneMatch(r -> r.envelope().contains("norelay-" + RUN));
        assertThat(outbound).as("no record for the remote domain on relay.outbound.v1")
                .noneMatch(r -> RELAYED.matcher(r.envelope()).find());
        assertThat(capture.messages()).as("nothing for the remote domain at the capture MX")
                .noneMatch(m -> m.recipients().stream().anyMatch(rcpt -> RELAYED.matcher(rcpt).find()))
                .noneMatch(m -> m.dataAsString().contains(ATTACKER_HELO));
    }

    // -------------------------------------------------------------------------------------------------- helpers

    /** The message carrying {@code marker} at the capture MX, checked against the client's view of the dialogue. */
    private static void assertCaptured(String marker, ExternalTool.Result client, String recipient, String protocol) {
        CapturedMessage received = awaitCaptured(marker, client.describe());
        assertThat(received.recipients()).as(client.describe()).containsExactly(recipient);
        assertThat(received.mailFrom()).isEqualTo("demo@example.test");
        Matcher queued = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)").matcher(client.output());
        assertThat(queued.find()).isTrue();
        assertThat(received.dataAsString()).as("Received: header of %s", received)
                .contains("with " + protocol + " id " + queued.group(1));
    }

    private static ExternalTool.Result show(ExternalTool.Result result) {
        show(result.describe());
        return result;
    }

    private static void show(String dialogue) {
        if (SHOW) {
            System.out.println(dialogue);
        }
    }

    private static CapturedMessage awaitCaptured(String marker, String context) {
        return await("message " + marker + " at the capture MX; the client's side:\n" + context)
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> capture.messages().stream()
                        .filter(m -> m.dataAsString().contains(marker)).findFirst().orElse(null), m -> m != null);
    }
}
