package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.SmtpTestClient;
import dev.relay.testkit.hostile.HostileClients;
import dev.relay.testkit.hostile.HostileMx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.relay.e2e.Waits.awaitOrFail;
import static dev.relay.e2e.Waits.awaitQuietly;
import static dev.relay.e2e.Waits.capturedIds;
import static dev.relay.e2e.Waits.seconds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Relay among hostile peers (issue #12), as a whole system of real processes with a small fixed heap: one ingress,
 * one policy and one delivery process, each {@code -Xmx256m -XX:+ExitOnOutOfMemoryError} (an out-of-memory error
 * ends the process, as a container's memory limit would), the ingress's memory budget set to fit in that heap.
 *
 * <p>Honest clients keep sending the whole time: an MX peer on the relay port (no AUTH, to a local domain) and an
 * authenticated submitter (STARTTLS + AUTH PLAIN, to a remote domain); both are delivered to a capture MX. Then, in
 * turn, the hostile clients of {@link HostileClients} attack the ingress: slow-hold, BDAT/EHLO churn, bare-LF
 * command smuggling, a pipelining flood, an AUTH line that never ends, and 1,000 connections that never speak.
 * Meanwhile the delivery worker is attacked by every {@link HostileMx} mode: messages were sent to one domain per
 * mode, each routed to its hostile MX, and are retried there until they expire ({@value #MAX_AGE_SECONDS} s) and
 * bounce to the sender.
 *
 * <p>After each attack: the ingress's memory budget is back to zero ({@code relay_ingress_memory_reserved_bytes})
 * and honest mail was accepted while the attack ran. At the end: every process alive, no
 * {@code OutOfMemoryError} in any log, and the reconciliation of what clients were told against what receivers
 * got — every honest message delivered, every message to a hostile domain bounced (its DSN in the sender's
 * mailbox), {@code lost 0}. Problems are collected and reported together, so one run shows every attack's effect.
 */
class HostilePeersIT {

    private static final long MAX_AGE_SECONDS = 45;
    /** The ingress's memory budget: well inside the 256 MiB heap, small enough for a few hostile peers to fill. */
    private static final long BUDGET = 32L * 1024 * 1024;
    private static final String RESERVED = "relay_ingress_memory_reserved_bytes";
    private static final Duration PACE = Duration.ofMillis(300);
    private static final Pattern QUEUED = Pattern.compile("queued as ([0-9A-Z]{20})");

    private final List<String> problems = new ArrayList<>();
    private boolean leaked;

    /** The shared broker and Keycloak, started (or found) outside the test's time limit: their boot varies. */
    @BeforeAll
    static void infrastructure() {
        KafkaBroker.shared();
        KeycloakServer.shared();
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void shouldStayUpBoundedAndServeHonestMailWhileEveryHostilePeerAttacks() throws Exception {
        long t0 = System.nanoTime();
        KafkaBroker kafka = KafkaBroker.shared();
        KeycloakServer keycloak = KeycloakServer.shared();
        Map<HostileMx.Mode, HostileMx> hostileMxs = new EnumMap<>(HostileMx.Mode.class);
        MailLoad mx = null;
        MailLoad submission = null;
        try (RelayCluster relay = new RelayCluster(kafka.bootstrapServers(), keycloak.url()).createTopics();
             CaptureMx capture = CaptureMx.start(0, null)) {
            for (HostileMx.Mode mode : HostileMx.Mode.values()) {
                hostileMxs.put(mode, HostileMx.start(mode));
            }

            // ---- the relay: 1 ingress, 1 policy, 1 delivery, small heaps --------------------------------------
            int relayPort = RelayService.freePort();
            int submissionPort = RelayService.freePort();
            Map<String, String> ingressEnv = relay.ingressEnv(relayPort, submissionPort, RelayService.freePort());
            ingressEnv.put("RELAY_RULES_TRUSTED_NETWORKS", "none"); // port 25 peers are strangers here
            // the honest MX-role peer writes to many mailboxes, and the bare-LF attack must be refused for the bare
            // LF alone, not for an unknown recipient: example.test accepts every recipient in this test
            ingressEnv.put("RELAY_RULES_CATCH_ALL_DOMAINS", "example.test");
            ingressEnv.put("RELAY_INGRESS_SMTP_MAX_BUFFERED_BYTES", Long.toString(BUDGET));
            ingressEnv.put("RELAY_INGRESS_SMTP_MAX_BUFFERED_BYTES_PER_CLIENT", Long.toString(BUDGET / 4));
            Map<String, String> policyEnv = relay.policyEnv();
            policyEnv.put("RELAY_RULES_TRUSTED_NETWORKS", "none");
            policyEnv.put("RELAY_RULES_CATCH_ALL_DOMAINS", "example.test");
            Map<String, String> deliveryEnv = relay.deliveryEnv();
            // every next hop here is a static route marked internal: no escape hatch for MX destinations
            deliveryEnv.remove("RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX");
            deliveryEnv.put("RELAY_DELIVERY_CONNECT_TIMEOUT", "3s");
            deliveryEnv.put("RELAY_DELIVERY_COMMAND_TIMEOUT", "10s");
            deliveryEnv.put("RELAY_DELIVERY_DATA_TIMEOUT", "20s");
            deliveryEnv.put("RELAY_DELIVERY_RETRY_MAX_AGE", MAX_AGE_SECONDS + "s");
            List<String> routes = new ArrayList<>(List.of(
                    route("example.test", capture.port()), route("good.example", capture.port())));
            hostileMxs.forEach((mode, server) -> routes.add(route(domain(mode), server.port())));
            List<String> small = List.of("-XX:+ExitOnOutOfMemoryError");
            List<String> deliveryJvm = new ArrayList<>(small);
            deliveryJvm.addAll(routes);
            RelayInstance ingress = relay.launch("ingress-service", "ingress", ingressEnv, RelayService.freePort(),
                    small);
            RelayInstance policy = relay.launch("policy-service", "policy", policyEnv, RelayService.freePort(), small);
            RelayInstance delivery = relay.launch("delivery-service", "delivery", deliveryEnv,
                    RelayService.freePort(), deliveryJvm);
            for (RelayInstance instance : relay.started()) {
                instance.awaitReady(Duration.ofSeconds(120));
            }
            log("relay up in %d s: %s; hostile MXs %s", seconds(t0), relay.started(), ports(hostileMxs));

            // ---- honest traffic, the whole time -----------------------------------------------------------------
            String run = relay.run;
            mx = new MailLoad(run, List.of(MailLoad.Client.trusted("mx-peer", relayPort, "peer@sender.example")),
                    n -> "mx-" + n + "@example.test", PACE).start();
            submission = new MailLoad(run, List.of(MailLoad.Client.authenticated("submitter", submissionPort, "demo",
                    "demo-password", "demo@example.test")), n -> "sub-" + n + "@good.example", PACE).start();
            MailLoad mxLoad = mx;
            MailLoad subLoad = submission;
            Supplier<Integer> honest = () -> mxLoad.acceptedCount() + subLoad.acceptedCount();
            awaitOrFail("honest mail accepted on both listeners", Duration.ofSeconds(60),
                    () -> mxLoad.acceptedCount() >= 3 && subLoad.acceptedCount() >= 3);

            // ---- one message per hostile MX mode, retried there until it expires -------------------------------
            Map<String, HostileMx.Mode> toHostile = new LinkedHashMap<>();
            for (HostileMx.Mode mode : HostileMx.Mode.values()) {
                toHostile.put(sendAuthenticated(submissionPort, "victim@" + domain(mode), run), mode);
            }
            log("sent to the hostile MXs: %s", toHostile);

            // ---- the hostile clients, in turn --------------------------------------------------------------------
            // the attacker connects from its own loopback address; honest clients use 127.0.0.1
            HostileClients relayPeer = HostileClients.against(relayPort).from(InetAddress.getByName("127.0.2.1"));
            // first, while the budget is whole: 12 holders of 3 MiB, more than the whole 32 MiB budget if the
            // ingress lets them hold it; the attacker's share (a quarter) stops it, so honest mail must get
            // through during the whole 90 s hold, without a single 4xx
            Supplier<Integer> honestTempFailed = () -> mxLoad.tempFailed() + subLoad.tempFailed();
            int tempFailedBefore = honestTempFailed.get();
            attack("slow-hold", ingress, honest,
                    () -> relayPeer.slowHold("hold@hostile.test", "hold@example.test", 12, 3 * 1024 * 1024,
                            Duration.ofSeconds(5), Duration.ofSeconds(90)), false, Duration.ZERO);
            if (honestTempFailed.get() > tempFailedBefore) {
                problems.add("slow-hold: honest clients got " + (honestTempFailed.get() - tempFailedBefore)
                        + " temporary failures while the attacker held its share: " + mxLoad.tempFailures() + " "
                        + subLoad.tempFailures());
            }
            attack("BDAT/EHLO churn", ingress, honest,
                    () -> relayPeer.bdatEhloChurn("churn@example.test", 1500, Duration.ofSeconds(60)), true);
            attack("bare LF smuggling", ingress, honest,
                    () -> relayPeer.bareLfSmuggling("smuggled@hostile.test", "smuggled@example.test"), true);
            attack("pipelining flood", ingress, honest,
                    () -> relayPeer.pipeliningFlood(500_000, Duration.ofSeconds(60)), false); // judged by memory: see the kit
            attack("endless AUTH line", ingress, honest,
                    () -> HostileClients.against(submissionPort).endlessAuth(true, 16L * 1024 * 1024,
                            Duration.ofSeconds(20)), true);
            HostileClients.Result silent = attack("1,000 silent connections", ingress, honest,
                    () -> relayPeer.silentConnections(1000, 40, Duration.ofSeconds(15)), false);
            if (silent.connections() < 1000) {
                problems.add("silent connections: only " + silent.connections() + " of 1000 could connect");
            }

            // ---- honest mail is still accepted after all of it ------------------------------------------------
            int before = honest.get();
            if (!awaitQuietly(Duration.ofSeconds(30), () -> honest.get() >= before + 4)) {
                problems.add("after the attacks: no honest mail accepted within 30 s (temp failures: mx "
                        + mxLoad.tempFailures() + ", submission " + subLoad.tempFailures() + ")");
            }
            mx.stop(Duration.ofSeconds(60));
            submission.stop(Duration.ofSeconds(60));

            // ---- delivery: the hostile-domain messages expire and bounce; honest mail arrives ------------------
            Map<String, MailLoad.Sent> accepted = new HashMap<>(mx.accepted());
            accepted.putAll(submission.accepted());
            awaitQuietly(Duration.ofSeconds(60), () -> capturedIds(capture).keySet().containsAll(accepted.keySet())
                    && Waits.bounced(capture).keySet().containsAll(toHostile.keySet()));
            Map<String, Integer> captured = capturedIds(capture);
            Map<String, Integer> bounced = Waits.bounced(capture);
            Set<String> delivered = new HashSet<>(captured.keySet());
            delivered.retainAll(accepted.keySet());
            int duplicates = accepted.keySet().stream().mapToInt(id -> Math.max(0, captured.getOrDefault(id, 0) - 1))
                    .sum();
            Set<String> lost = new HashSet<>(accepted.keySet());
            lost.removeAll(captured.keySet());
            Set<String> hostileLost = new HashSet<>(toHostile.keySet());
            hostileLost.removeAll(bounced.keySet());
            lost.addAll(hostileLost);
            for (String id : hostileLost) {
                problems.add("message " + id + " to the " + toHostile.get(id) + " MX: no DSN in the sender's mailbox");
            }
            hostileMxs.forEach((mode, server) -> log("hostile MX %s: %d connection(s), %d bytes sent", mode,
                    server.connections(), server.bytesSent()));

            // ---- every process alive, no OutOfMemoryError, budget at zero ---------------------------------------
            for (RelayInstance instance : relay.started()) {
                if (!instance.isAlive()) {
                    problems.add(instance.name() + " died; its log ends:\n" + instance.logTail());
                }
                if (instance.log().contains("java.lang.OutOfMemoryError")) {
                    problems.add(instance.name() + " ran out of memory (OutOfMemoryError in its log)");
                }
            }
            if (ingress.isAlive()) {
                double reserved = ingress.metric(RESERVED, "");
                if (reserved != 0) {
                    problems.add("ingress memory budget not back to zero at the end: " + (long) reserved + " bytes");
                }
            }
            if (delivery.isAlive()) {
                log("delivery heap used: %.0f MiB", delivery.metric("jvm_memory_used_bytes", "area=\"heap\"") / 1048576);
            }
            log("honest temp failures: mx %s, submission %s; permanent: %s %s", mx.tempFailures(),
                    submission.tempFailures(), mx.permanentFailures(), submission.permanentFailures());
            String reconciliation = String.format("accepted %d (250), temp-failed %d (4xx), delivered %d, bounced %d,"
                            + " duplicates %d, lost %d", accepted.size() + toHostile.size(),
                    mx.tempFailed() + submission.tempFailed(), delivered.size(),
                    (int) toHostile.keySet().stream().filter(bounced::containsKey).count(), duplicates, lost.size());
            log("%s (in %d s)", reconciliation, seconds(t0));
            assertThat(mx.permanentFailures()).as("honest MX peer refused permanently").isEmpty();
            assertThat(submission.permanentFailures()).as("honest submitter refused permanently").isEmpty();
            assertThat(problems).as("what the hostile peers achieved (" + reconciliation + ")").isEmpty();
            assertThat(lost).as("accepted (250) but neither delivered nor bounced: " + reconciliation).isEmpty();
            assertThat(policy.isAlive()).isTrue();
        } finally {
            if (mx != null) {
                mx.close();
            }
            if (submission != null) {
                submission.close();
            }
            hostileMxs.values().forEach(HostileMx::close);
        }
    }

    /**
     * Runs one attack while honest mail flows; afterwards the ingress must be alive, its memory budget back to zero
     * within 15 s, and (when {@code breachesMatter}) the attack must have achieved nothing it reports as a breach.
     * Honest mail must have been accepted between the start of the attack and 10 s after its end.
     */
    private HostileClients.Result attack(String name, RelayInstance ingress, Supplier<Integer> honest,
                                         Supplier<HostileClients.Result> attack, boolean breachesMatter) {
        return attack(name, ingress, honest, attack, breachesMatter, null);
    }

    /**
     * As above; with {@code holdingFrom}, honest mail must be accepted between that long after the start and the
     * end of the attack (no grace after it): for an attack that holds resources, the part where it holds them.
     */
    private HostileClients.Result attack(String name, RelayInstance ingress, Supplier<Integer> honest,
                                         Supplier<HostileClients.Result> attack, boolean breachesMatter,
                                         Duration holdingFrom) {
        int before = honest.get();
        long start = System.nanoTime();
        CompletableFuture<Integer> atHolding = holdingFrom == null ? CompletableFuture.completedFuture(before)
                : CompletableFuture.supplyAsync(honest, CompletableFuture.delayedExecutor(holdingFrom.toMillis(),
                        TimeUnit.MILLISECONDS));
        HostileClients.Result result = attack.get();
        int during;
        if (holdingFrom == null) {
            awaitQuietly(Duration.ofSeconds(10), () -> honest.get() > before);
            during = honest.get() - before;
        } else {
            during = honest.get() - atHolding.join();
        }
        log("%s (%d s): %s; honest mail accepted meanwhile%s: %d", name, seconds(start), result,
                holdingFrom == null ? "" : " (from " + holdingFrom.toSeconds() + " s on)", during);
        if (!ingress.isAlive()) {
            problems.add(name + ": the ingress died");
            return result;
        }
        if (result.breaches() > 0 && breachesMatter) {
            problems.add(name + ": " + result.breaches() + " breach(es): " + result.notes());
        }
        if (during == 0) {
            problems.add(name + ": no honest mail accepted during the attack");
        }
        // once an attack has leaked the budget, later ones cannot bring it back: do not wait for it again
        if (!awaitQuietly(Duration.ofSeconds(leaked ? 2 : 15), () -> reserved(ingress) == 0)) {
            leaked = true;
            problems.add(name + ": ingress memory budget not back to zero after the attack: "
                    + (long) reserved(ingress) + " bytes reserved");
        }
        return result;
    }

    private static double reserved(RelayInstance ingress) {
        try {
            return ingress.metric(RESERVED, "");
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** One authenticated message on the submission port; returns its queue id. */
    private static String sendAuthenticated(int port, String recipient, String run) throws Exception {
        try (SmtpTestClient smtp = SmtpTestClient.plain(port)) {
            smtp.reply();
            smtp.send("EHLO hostile-victim." + run + ".example");
            assertThat(smtp.startTls()).startsWith("220");
            smtp.send("EHLO hostile-victim." + run + ".example");
            assertThat(smtp.authPlain("demo", "demo-password")).as(smtp.transcript()).startsWith("235");
            assertThat(smtp.send("MAIL FROM:<demo@example.test>")).as(smtp.transcript()).startsWith("250");
            assertThat(smtp.send("RCPT TO:<" + recipient + ">")).as(smtp.transcript()).startsWith("250");
            assertThat(smtp.send("DATA")).as(smtp.transcript()).startsWith("354");
            String reply = smtp.send("From: <demo@example.test>\r\nTo: <" + recipient + ">\r\nSubject: to a hostile"
                    + " MX\r\n\r\nthis one goes to a hostile receiving server\r\n.");
            Matcher queued = QUEUED.matcher(reply);
            assertThat(queued.find()).as(smtp.transcript()).isTrue();
            smtp.send("QUIT");
            return queued.group(1);
        }
    }

    /** A delivery route as a system property (env variables cannot spell a quoted map key with dots). */
    private static String route(String domain, int port) {
        return "-Drelay.delivery.routes.\"" + domain + "\"=127.0.0.1:" + port + ";internal";
    }

    private static String domain(HostileMx.Mode mode) {
        return mode.name().toLowerCase(Locale.ROOT).replace('_', '-') + ".hostile.test";
    }

    private static Map<HostileMx.Mode, Integer> ports(Map<HostileMx.Mode, HostileMx> servers) {
        Map<HostileMx.Mode, Integer> ports = new EnumMap<>(HostileMx.Mode.class);
        servers.forEach((mode, server) -> ports.put(mode, server.port()));
        return ports;
    }


    private static void log(String format, Object... args) {
        System.out.printf("[HostilePeersIT] " + format + "%n", args);
    }
}
