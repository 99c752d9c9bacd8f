package dev.relay.e2e;

import dev.relay.testkit.Dkimpy;
import dev.relay.testkit.ManagedProcess;
import dev.relay.testkit.RelayRoot;
import dev.relay.testkit.SmtpTestClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The launcher behind {@code ./relay up|status|down} ({@code LocalStack}, what the script runs once the build is
 * done) on its documented default ports: everything starts, configuration from the environment reaches the
 * services, a second {@code up} starts nothing twice, {@code up} after a crash restarts what died, mail lands in
 * {@code .run/mail/}, and {@code down} frees every port. Skipped when a local stack already runs, so that a
 * developer's own {@code ./relay up} is never touched.
 */
class LauncherIT {

    private static final List<Integer> PORTS = List.of(9092, 9093, 8180, 2526, 2525, 2587, 2465, 8081, 8082, 8083);
    private static final Path ROOT = RelayRoot.get();

    @Test
    void shouldRunTheWholeRelayWithOneCommandAndStopItWithAnother() throws Exception {
        assumeTrue(PORTS.stream().noneMatch(p -> ManagedProcess.isListening("127.0.0.1", p)),
                "a local Relay stack (./relay up) is running: LauncherIT leaves it alone");
        String marker = "launcher-" + UUID.randomUUID();
        // a rules topic of this run: the policy seeds it from today's configuration (development DKIM rules
        // included), whatever rule set an earlier stack left in .run's Kafka
        Map<String, String> env = Map.of("RELAY_INGRESS_SERVER_NAME", "launcher.test",
                "RELAY_RULES_TOPIC", marker + ".rules");
        try {
            Result up = stack("up", env);
            assertThat(up.exit).as(up.output).isZero();
            assertThat(up.output).contains("Relay is up.", "swaks --server 127.0.0.1:2587", "demo-password",
                    "demo-app-secret");

            Result again = stack("up", env);
            assertThat(again.exit).as(again.output).isZero();
            assertThat(again.output.lines().filter(l -> l.contains("already running")).count()).isEqualTo(6);

            long policyPid = Long.parseLong(Files.readString(ROOT.resolve(".run/policy.pid")).trim());
            ProcessHandle.of(policyPid).ifPresent(ProcessHandle::destroyForcibly);
            await("policy killed").atMost(java.time.Duration.ofSeconds(20))
                    .until(() -> ProcessHandle.of(policyPid).map(h -> !h.isAlive()).orElse(true));
            Result recovered = stack("up", env);
            assertThat(recovered.exit).as(recovered.output).isZero();
            assertThat(recovered.output).containsPattern("policy\\s+started");

            Result status = stack("status", Map.of());
            assertThat(status.output.lines().filter(l -> l.contains("running")).count()).as(status.output)
                    .isEqualTo(6);

            try (SmtpTestClient smtp = new SmtpTestClient(2525)) {
                assertThat(smtp.reply()).as("environment reaches the services").contains("launcher.test");
                smtp.send("EHLO launcher.example");
                assertThat(smtp.send("MAIL FROM:<someone@outside.example>")).startsWith("250");
                assertThat(smtp.send("RCPT TO:<postmaster@example.test>")).startsWith("250");
                assertThat(smtp.send("DATA")).startsWith("354");
                assertThat(smtp.send("Subject: " + marker + "\r\n\r\nhello\r\n.")).as(smtp.transcript())
                        .startsWith("250 2.0.0");
                smtp.send("QUIT");
            }
            await("the message in .run/mail").atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> mailContaining(marker));

            // DKIM: mail from a local domain, submitted with AUTH (swaks), arrives signed with the stack's development
            // key, and Debian's dkimpy verifies it against the TXT value the stack wrote to .run/dkim/
            String signed = "launcher-dkim-" + UUID.randomUUID();
            ExternalTool.Result swaks = ExternalTool.run(java.time.Duration.ofSeconds(60), "swaks",
                    "--server", "127.0.0.1", "--port", "2587", "--tls", "--auth", "PLAIN", "--auth-user", "demo",
                    "--auth-password", "demo-password", "--from", "demo@example.test", "--to", "someone@example.net",
                    "--header", "Subject: " + signed);
            assertThat(swaks.exitCode()).as(swaks.describe()).isZero();
            await("the signed message in .run/mail").atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> mailContaining(signed));
            String txt = Files.readString(ROOT.resolve(".run/dkim/relay._domainkey.example.test.txt")).trim();
            Dkimpy.Result verified = Dkimpy.verify(mail(signed), Map.of("relay._domainkey.example.test", txt));
            assertThat(verified.verified()).as(verified.output()).isTrue();
            assertThat(verified.passed()).as(verified.output()).anyMatch(sig -> sig.startsWith("example.test/relay/"));
        } finally {
            Result down = stack("down", Map.of());
            assertThat(down.exit).as(down.output).isZero();
        }
        assertThat(PORTS).allSatisfy(p -> assertThat(ManagedProcess.isListening("127.0.0.1", p))
                .as("port " + p + " free after down").isFalse());
    }

    /**
     * {@code RELAY_KAFKA_BROKERS=3}: three Kafka nodes with their pid files, bootstrap on 9092, the relay's topics
     * replicated three times with {@code min.insync.replicas=2}; a message goes through; {@code status} (without the
     * variable) lists the three nodes, and {@code down} (without it either) stops them and frees every port.
     */
    @Test
    void shouldRunAReplicatedKafkaOfThreeBrokers() throws Exception {
        List<Integer> ports = Stream.concat(PORTS.stream(), Stream.of(9094, 9095, 9096, 9097)).toList();
        assumeTrue(ports.stream().noneMatch(p -> ManagedProcess.isListening("127.0.0.1", p)),
                "a local Relay stack (./relay up) is running: LauncherIT leaves it alone");
        String marker = "launcher-rf3-" + UUID.randomUUID();
        try {
            Result up = stack("up", Map.of("RELAY_KAFKA_BROKERS", "3"));
            assertThat(up.exit).as(up.output).isZero();
            assertThat(up.output).contains("Relay is up.", "replication factor 3");
            for (int i = 0; i < 3; i++) {
                assertThat(ROOT.resolve(".run/kafka-" + i + ".pid")).as(up.output).isRegularFile();
            }
            assertThat(ROOT.resolve(".run/kafka.pid")).doesNotExist();

            Result status = stack("status", Map.of());
            assertThat(status.output).as(status.output).containsPattern("kafka-0\\s+\\d+\\s+running\\s+9092\\s+yes")
                    .containsPattern("kafka-1\\s+\\d+\\s+running\\s+9093\\s+yes")
                    .containsPattern("kafka-2\\s+\\d+\\s+running\\s+9094\\s+yes");

            Result single = stack("up", Map.of());
            assertThat(single.exit).as("one broker while the cluster runs: " + single.output).isNotZero();
            assertThat(single.output).contains("./relay down first");

            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                    "bootstrap.servers", "127.0.0.1:9092"))) {
                var inbound = admin.describeTopics(List.of("relay.inbound.v1")).allTopicNames()
                        .get(30, TimeUnit.SECONDS).get("relay.inbound.v1");
                assertThat(inbound.partitions()).allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
                var resource = new org.apache.kafka.common.config.ConfigResource(
                        org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "relay.inbound.v1");
                var config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
                assertThat(config.get("min.insync.replicas").value()).isEqualTo("2");
                assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(3);
            }

            try (SmtpDialogue smtp = new SmtpDialogue(2525)) {
                smtp.reply();
                smtp.send("EHLO launcher.example");
                assertThat(smtp.send("MAIL FROM:<someone@outside.example>")).startsWith("250");
                assertThat(smtp.send("RCPT TO:<postmaster@example.test>")).startsWith("250");
                assertThat(smtp.send("DATA")).startsWith("354");
                assertThat(smtp.send("Subject: " + marker + "\r\n\r\nhello\r\n.")).as(smtp.transcript())
                        .startsWith("250 2.0.0");
                smtp.send("QUIT");
            }
            await("the message in .run/mail").atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> mailContaining(marker));
        } finally {
            Result down = stack("down", Map.of());
            assertThat(down.exit).as(down.output).isZero();
            assertThat(down.output).contains("kafka-0", "kafka-1", "kafka-2");
        }
        assertThat(ports).allSatisfy(p -> assertThat(ManagedProcess.isListening("127.0.0.1", p))
                .as("port " + p + " free after down").isFalse());
        for (int i = 0; i < 3; i++) {
            assertThat(ROOT.resolve(".run/kafka-" + i + ".pid")).doesNotExist();
        }
    }

    /** The bytes of the one message in .run/mail that contains {@code marker}. */
    private static byte[] mail(String marker) throws IOException {
        try (Stream<Path> files = Files.list(ROOT.resolve(".run/mail"))) {
            for (Path f : files.toList()) {
                byte[] bytes = Files.readAllBytes(f);
                if (new String(bytes, StandardCharsets.ISO_8859_1).contains(marker)) {
                    return bytes;
                }
            }
        }
        throw new IllegalStateException("no message with " + marker + " in .run/mail");
    }

    private static boolean mailContaining(String marker) throws IOException {
        try (Stream<Path> files = Files.list(ROOT.resolve(".run/mail"))) {
            return files.anyMatch(f -> {
                try {
                    return Files.readString(f, StandardCharsets.ISO_8859_1).contains(marker);
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    private record Result(int exit, String output) {
    }

    /** Runs {@code LocalStack <command>} as {@code ./relay} does after its build step. */
    private static Result stack(String command, Map<String, String> env) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = "relay-testkit/target/relay-testkit-0.1.0-SNAPSHOT.jar:relay-testkit/target/lib/*";
        Path out = Files.createTempFile("launcher-" + command, ".log");
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", classpath, "dev.relay.testkit.LocalStack", command)
                .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(env);
        Process process = pb.start();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("LocalStack " + command + " did not finish: " + Files.readString(out));
        }
        String output = Files.readString(out);
        Files.deleteIfExists(out);
        return new Result(process.exitValue(), output);
    }
}
