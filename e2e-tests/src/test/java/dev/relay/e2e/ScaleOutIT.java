package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static dev.relay.e2e.Waits.awaitOrFail;
import static dev.relay.e2e.Waits.awaitQuietly;
import static dev.relay.e2e.Waits.capturedIds;
import static dev.relay.e2e.Waits.seconds;
import static dev.relay.e2e.Waits.sleep;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scaling beyond one machine, shown here: one ingress, two policy and three delivery instances as separate processes
 * against one Kafka broker. Several SMTP clients send {@value #MESSAGES} messages through the ingress; every policy
 * and delivery instance gets a share of the work (Kafka consumer groups over 6 partitions); mid-stream one policy,
 * one delivery and the ingress are killed with SIGKILL (the ingress is replaced on the same ports) while sending
 * continues. At the end every queue id the ingress answered {@code 250} for must have reached the capture MX:
 * duplicates (redelivery after a kill) are allowed and reported, loss is not.
 *
 * <p>The test uses topics (rules topic included) and consumer groups of its own ({@code scale-<run>.*}), so records
 * other tests left on the shared {@code relay.*} topics cannot reach it and it cannot disturb them; it also checks
 * that the overrides took effect (none of its messages appears on the default topics).
 */
class ScaleOutIT {

    private static final int MESSAGES = 150;
    private static final int CLIENTS = 4;
    private static final int PARTITIONS = 6;
    private static final int DOMAINS = 5;
    /** Consumers per policy instance (relay.policy.concurrency): 2 instances x 2 = 4 members for 6 partitions. */
    private static final int POLICY_CONCURRENCY = 2;
    private static final Duration PACE = Duration.ofMillis(400);
    private static final List<String> DEFAULT_TOPICS = List.of("relay.inbound.v1", "relay.outbound.v1",
            "relay.retry.v1.1s", "relay.retry.v1.2s", "relay.events.v1", "relay.dlq.v1");
    private static final Pattern POLICY_DECIDED = Pattern.compile("decided ([0-9A-Z]{20}):");
    private static final Pattern DELIVERY_DONE =
            Pattern.compile("\\[([0-9A-Z]{20})\\] attempt \\d+: delivered=([1-9])");

    private RelayCluster relay;
    private MailLoad load;

    private int relayPort;

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void shouldShareTheWorkAndLoseNothingWhenOneInstanceOfEachKindIsKilled() throws Exception {
        long t0 = System.nanoTime();
        KafkaBroker kafka = KafkaBroker.shared();
        String bootstrap = kafka.bootstrapServers();
        KafkaBroker.createRelayTopics(bootstrap); // the defaults exist, so that we can show nothing reaches them
        KeycloakServer keycloak = KeycloakServer.shared();
        Map<String, Map<TopicPartition, Long>> defaultTopicsBefore = new HashMap<>();
        DEFAULT_TOPICS.forEach(t -> defaultTopicsBefore.put(t, TopicRecords.endOffsets(bootstrap, t)));

        relay = new RelayCluster(bootstrap, keycloak.url());
        String inbound = relay.inbound;
        String outbound = relay.outbound;
        String events = relay.events;
        String policyGroup = relay.policyGroup;
        String deliveryGroup = relay.deliveryGroup;
        try (Admin admin = relay.admin(); CaptureMx capture = CaptureMx.start(0, null)) {
            relay.createTopics();

            // ---- 1 ingress, 2 policy, 3 delivery, booted in parallel ------------------------------------------
            relayPort = RelayService.freePort();
            Map<String, String> ingressEnv = relay.ingressEnv(relayPort, RelayService.freePort(),
                    RelayService.freePort());
            Map<String, String> deliveryEnv = relay.deliveryEnv();
            deliveryEnv.put("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port());
            int ingressHttp = RelayService.freePort();
            RelayInstance ingress = relay.launch("ingress-service", "ingress-1", ingressEnv, ingressHttp);
            List<RelayInstance> policies = new ArrayList<>();
            List<RelayInstance> deliveries = new ArrayList<>();
            for (int i = 1; i <= 2; i++) {
                Map<String, String> policyEnv = relay.policyEnv();
                policyEnv.put("RELAY_POLICY_CONCURRENCY", String.valueOf(POLICY_CONCURRENCY));
                policies.add(relay.launch("policy-service", "policy-" + i, policyEnv,
                        RelayService.freePort()));
            }
            for (int i = 1; i <= 3; i++) {
                deliveries.add(relay.launch("delivery-service", "delivery-" + i, deliveryEnv,
                        RelayService.freePort()));
            }
            for (RelayInstance instance : relay.started()) {
                instance.awaitReady(Duration.ofSeconds(120));
            }
            awaitGroup(admin, policyGroup, inbound, 2 * POLICY_CONCURRENCY, Duration.ofSeconds(60));
            awaitGroup(admin, deliveryGroup, outbound, 3, Duration.ofSeconds(60));
            log("started in %d s: %s", seconds(t0), relay.started());
            log("assignment %s: %s", policyGroup, assignment(admin, policyGroup));
            log("assignment %s: %s", deliveryGroup, assignment(admin, deliveryGroup));

            // ---- send from several clients ------------------------------------------------------------------
            long sendStart = System.nanoTime();
            List<MailLoad.Client> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(MailLoad.Client.trusted("client-" + c, relayPort, "client-" + c + "@scale.example"));
            }
            String run = relay.run;
            load = new MailLoad(run, clients, n -> "user-" + n + "@d" + (n % DOMAINS) + "." + run + ".example.net",
                    PACE).limit(MESSAGES).start();

            // every worker instance does some of the work before anything is killed
            awaitOrFail("40 messages accepted", Duration.ofSeconds(60), () -> load.acceptedCount() >= 40);
            List<RelayInstance> workers = new ArrayList<>(policies);
            workers.addAll(deliveries);
            awaitOrFail("every policy and delivery instance processed a message", Duration.ofSeconds(60),
                    () -> workers.stream().allMatch(w -> processed(w) > 0));
            Map<String, Double> beforeKill = new LinkedHashMap<>();
            workers.forEach(w -> beforeKill.put(w.name(), processed(w)));
            log("processed per instance before the kills (metrics): %s", beforeKill);

            // ---- kill -9 one policy and one delivery instance --------------------------------------------------
            RelayInstance killedPolicy = policies.get(0);
            RelayInstance killedDelivery = deliveries.get(0);
            int acceptedAtWorkerKill = load.acceptedCount();
            long killedAt = System.nanoTime();
            killedPolicy.kill();
            killedDelivery.kill();
            log("SIGKILL %s and %s after %d accepted", killedPolicy, killedDelivery, acceptedAtWorkerKill);
            CompletableFuture<String> failover = CompletableFuture.supplyAsync(() -> {
                try (Admin watcher = relay.admin()) {
                    long policyDone = awaitGroupQuietly(watcher, policyGroup, inbound, POLICY_CONCURRENCY,
                            Duration.ofSeconds(60));
                    long deliveryDone = awaitGroupQuietly(watcher, deliveryGroup, outbound, 2, Duration.ofSeconds(60));
                    return String.format("policy group: all %d partitions with the survivor after %.1f s; delivery "
                                    + "group: all %d partitions with the 2 survivors after %.1f s", PARTITIONS,
                            (policyDone - killedAt) / 1e9, PARTITIONS, (deliveryDone - killedAt) / 1e9);
                }
            });

            // ---- kill -9 the ingress mid-stream and replace it on the same ports -----------------------------
            awaitOrFail("100 messages accepted", Duration.ofSeconds(90), () -> load.acceptedCount() >= 100);
            int acceptedAtIngressKill = load.acceptedCount();
            long ingressKilledAt = System.nanoTime();
            ingress.kill();
            log("SIGKILL %s after %d accepted", ingress, acceptedAtIngressKill);
            RelayInstance ingress2 = relay.launch("ingress-service", "ingress-2", ingressEnv, ingressHttp)
                    .awaitReady(Duration.ofSeconds(120));
            double ingressGap = (System.nanoTime() - ingressKilledAt) / 1e9;
            log("%s ready on the same ports %.1f s after the kill", ingress2, ingressGap);

            assertThat(load.awaitFinished(Duration.ofMinutes(3))).as("all messages sent").isTrue();
            long sendSeconds = seconds(sendStart);
            assertThat(load.permanentFailures()).as("permanent refusals").isEmpty();
            Map<String, MailLoad.Sent> accepted = load.accepted();
            assertThat(acceptedAtWorkerKill).as("workers killed mid-stream").isLessThan(MESSAGES);
            assertThat(acceptedAtIngressKill).as("ingress killed mid-stream").isLessThan(MESSAGES);
            log("sending done in %d s: %d accepted, %d temp-failed (4xx), %d connection errors, %d outcome unknown",
                    sendSeconds, accepted.size(), load.tempFailed(), load.connectionErrors(), load.unknownOutcome());
            log("failover: %s", failover.get(90, TimeUnit.SECONDS));

            // ---- every queue id answered 250 arrives at the capture MX --------------------------------------
            long drainStart = System.nanoTime();
            awaitQuietly(Duration.ofSeconds(90), () -> capturedIds(capture).keySet().containsAll(accepted.keySet()));
            long drainSeconds = seconds(drainStart);
            // let redeliveries after the kills land and offsets be committed, so that duplicates are counted fully
            awaitQuietly(Duration.ofSeconds(20), () -> lag(admin, policyGroup) == 0 && lag(admin, deliveryGroup) == 0);

            Map<String, Integer> captured = capturedIds(capture);
            Set<String> delivered = new HashSet<>(captured.keySet());
            delivered.retainAll(accepted.keySet());
            Set<String> lost = new HashSet<>(accepted.keySet());
            lost.removeAll(captured.keySet());
            int duplicates = captured.values().stream().mapToInt(n -> n - 1).sum();
            Set<String> unacknowledged = new HashSet<>(captured.keySet());
            unacknowledged.removeAll(accepted.keySet());

            // ---- the work was shared -------------------------------------------------------------------------
            Map<String, Double> processed = new LinkedHashMap<>();
            for (RelayInstance w : workers) {
                processed.put(w.name(), w.isAlive() ? processed(w) : beforeKill.get(w.name()));
            }
            Map<String, Integer> fromLogs = new LinkedHashMap<>();
            for (RelayInstance w : workers) {
                fromLogs.put(w.name(), idsInLog(w));
            }
            log("processed per instance (metrics; killed ones as read just before the kill): %s", processed);
            log("processed per instance (distinct queue ids in each log, killed ones up to the kill): %s", fromLogs);
            assertThat(processed.values()).as("every instance did some of the work").allMatch(n -> n > 0);

            // ---- the topic and group overrides took effect --------------------------------------------------
            Set<String> ours = new HashSet<>(captured.keySet());
            ours.addAll(accepted.keySet());
            int otherRecords = 0;
            for (String topic : DEFAULT_TOPICS) {
                List<TopicRecords.Entry> since = TopicRecords.since(bootstrap, topic, defaultTopicsBefore.get(topic));
                List<TopicRecords.Entry> leaked = since.stream()
                        .filter(e -> e.key() != null && ours.contains(e.key().split("/")[0])).toList();
                assertThat(leaked).as("records of this test on the default topic " + topic).isEmpty();
                otherRecords += since.size();
            }
            assertThat(keysOn(bootstrap, inbound)).as(inbound).containsAll(accepted.keySet());
            assertThat(keysOn(bootstrap, outbound)).as(outbound).containsAll(accepted.keySet());
            assertThat(keysOn(bootstrap, events)).as(events).containsAll(accepted.keySet());
            log("overrides took effect: every accepted id is on %s, %s and %s; none on relay.*.v1 (%d records of"
                    + " others written there meanwhile)", inbound, outbound, events, otherRecords);

            String reconciliation = String.format("accepted %d (250), temp-failed %d (4xx), delivered %d (unique queue"
                            + " ids at the capture MX), duplicates %d, lost %d", accepted.size(), load.tempFailed(),
                    delivered.size(), duplicates, lost.size());
            log("%s", reconciliation);
            log("also: %d connection errors retried, %d sends with unknown outcome (connection cut after the final"
                            + " dot), %d messages delivered without a 250 seen by the client, %d records on %s; "
                            + "all %d in %d s (drain after sending %d s)", load.connectionErrors(),
                    load.unknownOutcome(), unacknowledged.size(), relay.retryTiers.stream().mapToInt(t -> keysOn(bootstrap, t).size()).sum(), relay.retryTiers,
                    MESSAGES,
                    seconds(t0), drainSeconds);
            assertThat(accepted).as("every message was eventually accepted").hasSize(MESSAGES);
            assertThat(lost).as("accepted (250) but never delivered: " + reconciliation).isEmpty();
        } finally {
            if (load != null) {
                load.close();
            }
            relay.close();
        }
    }

    // ---- services --------------------------------------------------------------------------------------------

    /** Messages an instance processed so far, from its own metrics. */
    private static double processed(RelayInstance worker) {
        try {
            return worker.name().startsWith("policy")
                    ? worker.metric("relay_policy_decisions_total", "verdict=\"allow\"")
                    : worker.metric("relay_delivery_attempts_total", "result=\"delivered\"");
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Distinct queue ids an instance logged as decided (policy) or delivered (delivery). */
    private static int idsInLog(RelayInstance worker) {
        Matcher m = (worker.name().startsWith("policy") ? POLICY_DECIDED : DELIVERY_DONE).matcher(worker.log());
        Set<String> ids = new HashSet<>();
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids.size();
    }

    // ---- Kafka -----------------------------------------------------------------------------------------------

    /** Waits until {@code group} has exactly {@code members} members that together own every partition. */
    private static void awaitGroup(Admin admin, String group, String topic, int members, Duration timeout) {
        awaitOrFail(group + " with " + members + " members owning all " + PARTITIONS + " partitions of " + topic,
                timeout, () -> groupSettled(admin, group, topic, members));
    }

    /** As {@link #awaitGroup}, returning System.nanoTime() when it happened (or now, after {@code timeout}). */
    private static long awaitGroupQuietly(Admin admin, String group, String topic, int members, Duration timeout) {
        awaitQuietly(timeout, () -> groupSettled(admin, group, topic, members));
        return System.nanoTime();
    }

    private static boolean groupSettled(Admin admin, String group, String topic, int members) {
        try {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(10, TimeUnit.SECONDS);
            Set<TopicPartition> owned = new HashSet<>();
            for (MemberDescription m : d.members()) {
                if (m.assignment().topicPartitions().isEmpty()) {
                    return false;
                }
                owned.addAll(m.assignment().topicPartitions());
            }
            return d.members().size() == members
                    && owned.stream().filter(tp -> tp.topic().equals(topic)).count() == PARTITIONS;
        } catch (Exception e) {
            return false;
        }
    }

    private static Map<String, List<Integer>> assignment(Admin admin, String group) throws Exception {
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                .get(10, TimeUnit.SECONDS);
        Map<String, List<Integer>> byMember = new TreeMap<>();
        for (MemberDescription m : d.members()) {
            byMember.put(m.host() + "/" + m.consumerId().replaceAll("-[0-9a-f-]{36}$", "") + "#"
                            + Integer.toHexString(m.consumerId().hashCode()),
                    m.assignment().topicPartitions().stream().map(TopicPartition::partition).sorted().toList());
        }
        return byMember;
    }

    /** Records not yet committed by {@code group} (-1 if it cannot be read). */
    private static long lag(Admin admin, String group) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = committed.keySet().stream()
                    .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
            var ends = admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
            long lag = 0;
            for (var e : committed.entrySet()) {
                lag += ends.get(e.getKey()).offset() - (e.getValue() == null ? 0 : e.getValue().offset());
            }
            return committed.size() == PARTITIONS ? lag : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    /** The keys (queue ids; the part before "/" for per-hop keys) on a topic of this run. */
    private static Set<String> keysOn(String bootstrap, String topic) {
        return TopicRecords.since(bootstrap, topic, Map.of()).stream()
                .filter(e -> e.key() != null).map(e -> e.key().split("/")[0]).collect(Collectors.toSet());
    }

    private static void log(String format, Object... args) {
        System.out.printf("[ScaleOutIT] " + format + "%n", args);
    }
}
