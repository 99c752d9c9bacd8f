package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.DnsResponder;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayRoot;
import dev.relay.testkit.SmtpTestClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

import static dev.relay.e2e.Waits.awaitOrFail;
import static dev.relay.e2e.Waits.awaitQuietly;
import static dev.relay.e2e.Waits.capturedIds;
import static dev.relay.e2e.Waits.seconds;
import static dev.relay.e2e.Waits.sleep;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole relay under steady load through a sequence of faults, on its own Kafka broker (so that it can be
 * stopped) and the build's Keycloak behind a {@link TcpProxy} (so that it can be taken away without stopping a
 * server other tests share). At the end, what clients were told is reconciled against what receivers got:
 * {@code accepted N (250), temp-failed M (4xx), delivered D, bounced B, duplicates K, lost 0}.
 *
 * <p>Phases, each under load from trusted (relay port, no AUTH) and authenticated (submission, STARTTLS, AUTH
 * PLAIN, one long session each) clients:
 * <ol>
 *   <li>steady state;</li>
 *   <li>{@code kill -9} of a policy instance, a delivery worker and the ingress (replaced on the same ports);</li>
 *   <li>the Kafka broker stopped for 30 s and started again: clients get 451/421 meanwhile, nothing that got 250
 *       is lost;</li>
 *   <li>Keycloak unreachable: a new AUTH gets {@code 454 4.7.0}, sessions authenticated before keep sending; AUTH
 *       works again when it is back;</li>
 *   <li>bad destinations: one answers {@code 451} for a while, one {@code 550}, one is unreachable (connection
 *       refused), one tarpits (answers slower than the delivery's command timeout); the good destinations keep
 *       receiving meanwhile;</li>
 *   <li>graceful restarts (SIGTERM) of each service kind.</li>
 * </ol>
 * Destinations are found through a DNS responder on loopback (MX and A records); each receiving server listens on
 * its own loopback address (127.0.0.x) on one shared port, as MX hosts on the internet share port 25. Retries run
 * on a short schedule (1 s, then every 2 s) and give up after 45 s, so that the unreachable and tarpitting
 * destinations end in an expiry DSN within the test: every message ends delivered or bounced (a DSN reached the
 * sender's mailbox, a receiver for the local domain {@code example.test}).
 */
class FaultMatrixIT {

    private static final Duration KAFKA_OUTAGE = Duration.ofSeconds(30);
    private static final Duration FLAKY_FOR = Duration.ofSeconds(20);
    private static final Duration MAX_AGE = Duration.ofSeconds(45);

    private final Map<String, String> phases = new LinkedHashMap<>();
    private final List<String> findings = new ArrayList<>();

    @Test
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void shouldLoseNothingThroughKillsOutagesAndRestarts() throws Exception {
        long t0 = System.nanoTime();
        Path dir = RelayRoot.get().resolve("e2e-tests/target/fault-matrix-kafka");
        KafkaBroker kafka = KafkaBroker.start(dir, RelayService.freePort(), RelayService.freePort());
        KeycloakServer keycloakServer = KeycloakServer.shared();
        URI keycloak = URI.create(keycloakServer.url());
        int smtpPort = RelayService.freePort();
        try (TcpProxy keycloakLink = new TcpProxy(keycloak.getHost(), keycloak.getPort());
             CaptureMx receiver = CaptureMx.start(loopback(2), smtpPort, null);
             CaptureMx flaky = CaptureMx.start(loopback(3), smtpPort, null);
             CaptureMx rejecting = CaptureMx.start(loopback(4), smtpPort, null);
             CaptureMx tarpit = CaptureMx.start(loopback(6), smtpPort, null);
             CaptureMx mailbox = CaptureMx.start(loopback(7), smtpPort, null);
             DnsResponder dns = DnsResponder.start();
             RelayCluster relay = new RelayCluster(kafka.bootstrapServers(),
                     "http://127.0.0.1:" + keycloakLink.port()).createTopics()) {
            String good = "ok." + relay.run + ".example.net";
            Destinations destinations = new Destinations(relay.run);
            for (int d = 0; d < 5; d++) {
                dns.mx("d" + d + "." + good, 10, "mx." + good);
            }
            dns.a("mx." + good, "127.0.0.2");
            dns.mx(destinations.flaky, 10, "mx." + destinations.flaky).a("mx." + destinations.flaky, "127.0.0.3");
            dns.mx(destinations.rejecting, 10, "mx." + destinations.rejecting)
                    .a("mx." + destinations.rejecting, "127.0.0.4");
            dns.mx(destinations.unreachable, 10, "mx." + destinations.unreachable)
                    .a("mx." + destinations.unreachable, "127.0.0.5"); // nothing listens there
            dns.mx(destinations.tarpit, 10, "mx." + destinations.tarpit).a("mx." + destinations.tarpit, "127.0.0.6");
            dns.mx("example.test", 10, "mailbox.example.test").a("mailbox.example.test", "127.0.0.7");
            rejecting.setRcptReply(rcpt -> "550 5.1.1 <" + rcpt + ">: no such user here");
            tarpit.setReplyDelay(Duration.ofSeconds(20));

            // ---- the relay: 1 ingress, 2 policy, 2 delivery --------------------------------------------------
            int relayPort = RelayService.freePort();
            int submissionPort = RelayService.freePort();
            Map<String, String> ingressEnv = relay.ingressEnv(relayPort, submissionPort, RelayService.freePort());
            ingressEnv.put("RELAY_INGRESS_PUBLISH_TIMEOUT", "5s");
            int ingressHttp = RelayService.freePort();
            Map<String, String> deliveryEnv = relay.deliveryEnv();
            deliveryEnv.put("RELAY_DELIVERY_DNS_SERVERS", dns.address());
            deliveryEnv.put("RELAY_DELIVERY_SMTP_PORT", String.valueOf(smtpPort));
            // example.test is a local domain: the policy routes it LOCAL, to the mailbox backend (issue 13)
            deliveryEnv.put("RELAY_DELIVERY_MAILBOX_ROUTE", "127.0.0.7:" + smtpPort + ";tls=none;internal");
            deliveryEnv.put("RELAY_DELIVERY_CONNECT_TIMEOUT", "3s");
            deliveryEnv.put("RELAY_DELIVERY_COMMAND_TIMEOUT", "5s");
            deliveryEnv.put("RELAY_DELIVERY_DATA_TIMEOUT", "10s");
            deliveryEnv.put("RELAY_DELIVERY_RETRY_MAX_AGE", MAX_AGE.toSeconds() + "s");
            List<RelayInstance> policies = new ArrayList<>();
            List<RelayInstance> deliveries = new ArrayList<>();
            RelayInstance ingress = relay.launch("ingress-service", "ingress-1", ingressEnv, ingressHttp);
            for (int i = 1; i <= 2; i++) {
                policies.add(relay.launch("policy-service", "policy-" + i, relay.policyEnv(),
                        RelayService.freePort()));
                deliveries.add(relay.launch("delivery-service", "delivery-" + i, deliveryEnv,
                        RelayService.freePort()));
            }
            for (RelayInstance instance : relay.started()) {
                instance.awaitReady(Duration.ofSeconds(120));
            }
            log("relay up in %d s: %s", seconds(t0), relay.started());

            List<MailLoad.Client> clients = List.of(
                    MailLoad.Client.trusted("app-1", relayPort, "app-1@example.test"),
                    MailLoad.Client.trusted("app-2", relayPort, "app-2@example.test"),
                    MailLoad.Client.authenticated("person-1", submissionPort, "demo", "demo-password",
                            "demo@example.test"),
                    MailLoad.Client.authenticated("person-2", submissionPort, "demo", "demo-password",
                            "demo@example.test"));
            try (MailLoad load = new MailLoad(relay.run, clients,
                    n -> destinations.recipient(n, "user-" + n + "@d" + (n % 5) + "." + good), Duration.ofMillis(50))
                    .start()) {

                // ---- 1. steady ---------------------------------------------------------------------------------
                phase("steady", load, receiver, () -> sleep(Duration.ofSeconds(15)));
                assertThat(load.acceptedCount()).as("accepted in steady state").isGreaterThan(20);

                // ---- 2. kill -9 of one of each kind, replaced ----------------------------------------------------
                phase("kill -9", load, receiver, () -> {
                    RelayInstance policy = policies.remove(0);
                    RelayInstance delivery = deliveries.remove(0);
                    policy.kill();
                    delivery.kill();
                    log("SIGKILL %s and %s", policy, delivery);
                    policies.add(relay.launch("policy-service", "policy-3", relay.policyEnv(),
                            RelayService.freePort()));
                    deliveries.add(relay.launch("delivery-service", "delivery-3", deliveryEnv,
                            RelayService.freePort()));
                    sleep(Duration.ofSeconds(5));
                    ingressKillAndReplace(relay, ingressEnv, ingressHttp, "ingress-2");
                    policies.get(policies.size() - 1).awaitReady(Duration.ofSeconds(120));
                    deliveries.get(deliveries.size() - 1).awaitReady(Duration.ofSeconds(120));
                    sleep(Duration.ofSeconds(5));
                });

                // ---- 3. Kafka stopped for 30 s -------------------------------------------------------------------
                Map<String, Integer> tempBefore = load.tempFailures();
                phase("kafka down 30 s", load, receiver, () -> {
                    kafka.stop();
                    long stoppedAt = System.nanoTime();
                    sleep(Duration.ofSeconds(5)); // in-flight publishes settle: 250 (acked before) or 451
                    int acceptedWhileDown = load.acceptedCount();
                    sleep(KAFKA_OUTAGE.minusNanos(System.nanoTime() - stoppedAt));
                    int acceptedLater = load.acceptedCount();
                    findings.add("accepted while Kafka was down (after the first 5 s): "
                            + (acceptedLater - acceptedWhileDown));
                    assertThat(acceptedLater).as("no 250 while Kafka is down").isEqualTo(acceptedWhileDown);
                    kafka.restart();
                    int before = load.acceptedCount();
                    awaitOrFail("accepting again after Kafka is back", Duration.ofSeconds(90),
                            () -> load.acceptedCount() > before + 10);
                });
                Map<String, Integer> tempAfter = load.tempFailures();
                int outageReplies = count(tempAfter, "451") + count(tempAfter, "421")
                        - count(tempBefore, "451") - count(tempBefore, "421");
                findings.add("451/421 replies during the Kafka outage: " + outageReplies + " " + tempAfter);
                assertThat(outageReplies).as("clients were told 451/421 while Kafka was down").isPositive();

                // ---- 4. Keycloak unreachable ---------------------------------------------------------------------
                phase("keycloak down", load, receiver, () -> {
                    Map<String, Integer> byClient = acceptedByClient(load);
                    keycloakLink.cut();
                    sleep(Duration.ofSeconds(1));
                    String refused = authenticate(submissionPort, "relayadmin", "relayadmin-password");
                    findings.add("AUTH while Keycloak is unreachable: " + refused.trim());
                    assertThat(refused).as("AUTH without Keycloak").startsWith("454 4.7.0");
                    sleep(Duration.ofSeconds(10));
                    Map<String, Integer> after = acceptedByClient(load);
                    int authenticatedDuring = count(after, "person-1") + count(after, "person-2")
                            - count(byClient, "person-1") - count(byClient, "person-2");
                    findings.add("accepted from sessions authenticated before the outage: " + authenticatedDuring);
                    assertThat(authenticatedDuring).as("authenticated sessions keep sending").isPositive();
                    keycloakLink.restore();
                    awaitOrFail("AUTH works again", Duration.ofSeconds(30), () -> authenticate(submissionPort,
                            "relayadmin", "relayadmin-password").startsWith("235"));
                });

                // ---- 5. bad destinations ------------------------------------------------------------------------
                phase("bad destinations", load, receiver, () -> {
                    long flakyUntil = System.currentTimeMillis() + FLAKY_FOR.toMillis();
                    flaky.setRcptReply(rcpt -> System.currentTimeMillis() < flakyUntil
                            ? "451 4.3.0 <" + rcpt + ">: not now, try again later" : null);
                    int goodBefore = receiver.messages().size();
                    destinations.active = true;
                    sleep(Duration.ofSeconds(15));
                    destinations.active = false;
                    int goodDuring = receiver.messages().size() - goodBefore;
                    findings.add("good destinations received " + goodDuring + " messages (" + goodDuring / 15
                            + "/s) while the bad ones were in the mix");
                    assertThat(goodDuring).as("good destinations keep receiving").isPositive();
                });

                // ---- 6. graceful restarts ------------------------------------------------------------------------
                phase("graceful restarts", load, receiver, () -> {
                    RelayInstance policy = policies.remove(0);
                    policy.close();
                    policies.add(relay.launch("policy-service", "policy-4", relay.policyEnv(),
                            RelayService.freePort()).awaitReady(Duration.ofSeconds(120)));
                    RelayInstance delivery = deliveries.remove(0);
                    delivery.close();
                    deliveries.add(relay.launch("delivery-service", "delivery-4", deliveryEnv,
                            RelayService.freePort()).awaitReady(Duration.ofSeconds(120)));
                    RelayInstance current = relay.started().stream()
                            .filter(i -> i.name().startsWith("ingress") && i.isAlive()).findFirst().orElseThrow();
                    current.close();
                    relay.launch("ingress-service", "ingress-3", ingressEnv, ingressHttp)
                            .awaitReady(Duration.ofSeconds(120));
                    sleep(Duration.ofSeconds(5));
                });

                load.stop(Duration.ofSeconds(90));
                assertThat(load.permanentFailures()).as("permanent refusals").isEmpty();

                // ---- reconciliation ----------------------------------------------------------------------------
                Map<String, MailLoad.Sent> accepted = load.accepted();
                List<CaptureMx> receivers = List.of(receiver, flaky);
                awaitQuietly(MAX_AGE.plusSeconds(90), () -> {
                    Set<String> done = new HashSet<>(delivered(receivers).keySet());
                    done.addAll(Waits.bounced(mailbox).keySet());
                    return done.containsAll(accepted.keySet());
                });
                sleep(Duration.ofSeconds(3)); // late redeliveries land, so duplicates are counted fully
                Map<String, Integer> delivered = delivered(receivers);
                Map<String, Integer> bounced = Waits.bounced(mailbox);
                Set<String> lost = new HashSet<>(accepted.keySet());
                lost.removeAll(delivered.keySet());
                lost.removeAll(bounced.keySet());
                Set<String> both = new HashSet<>(delivered.keySet());
                both.retainAll(bounced.keySet());
                int deliveredCount = (int) accepted.keySet().stream().filter(delivered::containsKey).count();
                int bouncedCount = (int) accepted.keySet().stream().filter(bounced::containsKey).count();
                int duplicates = delivered.entrySet().stream().filter(e -> accepted.containsKey(e.getKey()))
                        .mapToInt(e -> e.getValue() - 1).sum()
                        + bounced.values().stream().mapToInt(n -> n - 1).sum();
                String reconciliation = String.format("accepted %d (250), temp-failed %d (4xx), delivered %d, "
                                + "bounced %d, duplicates %d, lost %d", accepted.size(), load.tempFailed(),
                        deliveredCount, bouncedCount, duplicates, lost.size());
                phases.forEach((name, result) -> log("phase %-18s %s", name, result));
                findings.forEach(f -> log("%s", f));
                log("connection errors %d, outcome unknown (cut after the final dot) %d, 4xx by code %s",
                        load.connectionErrors(), load.unknownOutcome(), load.tempFailures());
                log("by destination: %s", destinations.summary(accepted, delivered, bounced));
                log("%s (in %d s)", reconciliation, seconds(t0));
                assertThat(lost).as(reconciliation).isEmpty();
                assertThat(both).as("delivered and also bounced").isEmpty();
                Map<String, long[]> byDestination = destinations.outcomes(accepted, delivered, bounced);
                assertThat(byDestination.get(destinations.flaky)[0]).as("451 for a while, then delivered")
                        .isEqualTo(byDestination.get(destinations.flaky)[1]).isPositive();
                assertThat(byDestination.get(destinations.rejecting)[0]).as("550: every one bounced")
                        .isEqualTo(byDestination.get(destinations.rejecting)[2]).isPositive();
                assertThat(byDestination.get(destinations.unreachable)[0]).as("unreachable: expired, bounced")
                        .isEqualTo(byDestination.get(destinations.unreachable)[2]).isPositive();
                assertThat(byDestination.get(destinations.tarpit)[0]).as("tarpit: expired, bounced")
                        .isEqualTo(byDestination.get(destinations.tarpit)[2]).isPositive();
            }
        } finally {
            kafka.stop();
        }
    }

    // ---- phases ------------------------------------------------------------------------------------------------

    private interface Step {
        void run() throws Exception;
    }

    /** Runs a phase and records how many messages were accepted and delivered while it ran. */
    private void phase(String name, MailLoad load, CaptureMx receiver, Step step) throws Exception {
        long start = System.nanoTime();
        int acceptedBefore = load.acceptedCount();
        int receivedBefore = receiver.messages().size();
        log("phase %s ...", name);
        step.run();
        double seconds = (System.nanoTime() - start) / 1e9;
        int accepted = load.acceptedCount() - acceptedBefore;
        int received = receiver.messages().size() - receivedBefore;
        phases.put(name, String.format("%5.1f s: accepted %d (%.1f/s), received %d", seconds, accepted,
                accepted / seconds, received));
        log("phase %s done: %s", name, phases.get(name));
    }

    private static void ingressKillAndReplace(RelayCluster relay, Map<String, String> env, int http, String name) {
        RelayInstance current = relay.started().stream()
                .filter(i -> i.name().startsWith("ingress") && i.isAlive()).findFirst().orElseThrow();
        current.kill();
        log("SIGKILL %s", current);
        relay.launch("ingress-service", name, env, http).awaitReady(Duration.ofSeconds(120));
    }

    /** A fresh session on the submission port up to the reply to AUTH PLAIN. */
    private static String authenticate(int port, String user, String password) {
        try (SmtpTestClient smtp = new SmtpTestClient(port)) {
            smtp.reply();
            smtp.send("EHLO probe.example");
            smtp.startTls();
            smtp.send("EHLO probe.example");
            return smtp.authPlain(user, password);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    /** Which recipients the load uses: good domains, and while {@link #active} every 5th message a bad one. */
    private static final class Destinations {
        final String flaky;
        final String rejecting;
        final String unreachable;
        final String tarpit;
        volatile boolean active;

        Destinations(String run) {
            flaky = "flaky." + run + ".example.org";
            rejecting = "rejecting." + run + ".example.org";
            unreachable = "unreachable." + run + ".example.org";
            tarpit = "tarpit." + run + ".example.org";
        }

        String recipient(int n, String good) {
            if (!active || n % 5 != 0) {
                return good;
            }
            List<String> bad = List.of(flaky, rejecting, unreachable, tarpit);
            return "user-" + n + "@" + bad.get((n / 5) % bad.size());
        }

        /** Per destination domain: {accepted, delivered, bounced}. */
        Map<String, long[]> outcomes(Map<String, MailLoad.Sent> accepted, Map<String, Integer> delivered,
                                     Map<String, Integer> bounced) {
            Map<String, long[]> byDomain = new java.util.TreeMap<>();
            accepted.forEach((id, sent) -> {
                String domain = sent.domain().startsWith("d") ? "good domains" : sent.domain();
                long[] counts = byDomain.computeIfAbsent(domain, k -> new long[3]);
                counts[0]++;
                counts[1] += delivered.containsKey(id) ? 1 : 0;
                counts[2] += bounced.containsKey(id) ? 1 : 0;
            });
            List.of(flaky, rejecting, unreachable, tarpit).forEach(d -> byDomain.putIfAbsent(d, new long[3]));
            return byDomain;
        }

        String summary(Map<String, MailLoad.Sent> accepted, Map<String, Integer> delivered,
                       Map<String, Integer> bounced) {
            StringBuilder out = new StringBuilder();
            outcomes(accepted, delivered, bounced).forEach((domain, c) -> out.append(String.format(
                    "%n    %-40s accepted %d, delivered %d, bounced %d", domain, c[0], c[1], c[2])));
            return out.toString();
        }
    }

    /** Queue id → copies, over the receivers that stand for delivered mail. */
    private static Map<String, Integer> delivered(List<CaptureMx> receivers) {
        Map<String, Integer> ids = new HashMap<>();
        receivers.forEach(r -> capturedIds(r).forEach((id, n) -> ids.merge(id, n, Integer::sum)));
        return ids;
    }


    private static InetAddress loopback(int last) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Integer> acceptedByClient(MailLoad load) {
        Map<String, Integer> byClient = new HashMap<>();
        load.accepted().values().forEach(s -> byClient.merge(s.client(), 1, Integer::sum));
        return byClient;
    }

    private static int count(Map<String, Integer> counts, String key) {
        return counts.getOrDefault(key, 0);
    }

    private static void log(String format, Object... args) {
        System.out.printf("[FaultMatrixIT] " + format + "%n", args);
    }
}
