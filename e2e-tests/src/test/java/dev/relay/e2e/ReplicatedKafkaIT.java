package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.KafkaCluster;
import dev.relay.testkit.RelayRoot;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static dev.relay.e2e.Waits.awaitOrFail;
import static dev.relay.e2e.Waits.awaitQuietly;
import static dev.relay.e2e.Waits.capturedIds;
import static dev.relay.e2e.Waits.seconds;
import static dev.relay.e2e.Waits.sleep;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The durability Relay promises in production, on a replicated Kafka: the whole relay (ingress, policy and delivery
 * as separate processes) against a {@link KafkaCluster} of its own (3 brokers, each also a KRaft controller, on free
 * ports; topics with replication factor 3, {@code min.insync.replicas=2}, no unclean leader election, as deploy/
 * configures Strimzi), under steady SMTP load from clients that retry a {@code 4xx} as MTAs do.
 *
 * <ol>
 *   <li>steady state;</li>
 *   <li>{@code kill -9} of the broker that leads most partitions of the inbound topic: the ingress's producer moves
 *       to the new leaders, clients go on being accepted (a publish caught by the failover may get {@code 451});</li>
 *   <li>{@code kill -9} of a second broker: one replica and no controller majority remain, so no record can be on
 *       two logs. Every message whose DATA ended after this kill is answered {@code 4xx}, never {@code 250}
 *       ({@code acks=all} with {@code min.insync.replicas=2}); the ingress's publish timeout (10 s by default)
 *       bounds how long a client waits for that answer;</li>
 *   <li>both brokers restarted: accepting again.</li>
 * </ol>
 * Reconciliation at the capture MX: {@code accepted N (250), temp-failed M (4xx), delivered N, duplicates K, lost 0}.
 */
class ReplicatedKafkaIT {

    private static final Duration PACE = Duration.ofMillis(50);

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void shouldLoseNothingAndAcceptNothingUnreplicatedWhenBrokersDie() throws Exception {
        long t0 = System.nanoTime();
        try (KafkaCluster kafka = KafkaCluster.start(RelayRoot.get().resolve("e2e-tests/target/replicated-kafka"), 3);
             CaptureMx capture = CaptureMx.start(0, null);
             // no Keycloak: the load comes from trusted clients on the relay port, which never authenticate
             RelayCluster relay = new RelayCluster(kafka.bootstrapServers(), "http://127.0.0.1:9")
                     .createTopics(3)) {
            log("Kafka cluster of 3 up in %d s: %s", seconds(t0), kafka.bootstrapServers());
            assertReplicated(relay);

            int relayPort = RelayService.freePort();
            Map<String, String> ingressEnv = relay.ingressEnv(relayPort, RelayService.freePort(),
                    RelayService.freePort());
            Map<String, String> deliveryEnv = relay.deliveryEnv();
            deliveryEnv.put("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capture.port());
            relay.launch("ingress-service", "ingress-1", ingressEnv, RelayService.freePort());
            relay.launch("policy-service", "policy-1", relay.policyEnv(), RelayService.freePort());
            relay.launch("delivery-service", "delivery-1", deliveryEnv, RelayService.freePort());
            for (RelayInstance instance : relay.started()) {
                instance.awaitReady(Duration.ofSeconds(120));
            }
            log("relay up in %d s", seconds(t0));

            List<MailLoad.Client> clients = List.of(
                    MailLoad.Client.trusted("app-1", relayPort, "app-1@example.test"),
                    MailLoad.Client.trusted("app-2", relayPort, "app-2@example.test"),
                    MailLoad.Client.trusted("app-3", relayPort, "app-3@example.test"));
            try (MailLoad load = new MailLoad(relay.run, clients,
                    n -> "user-" + n + "@d" + (n % 5) + "." + relay.run + ".example.net", PACE).start()) {

                // ---- 1. steady ---------------------------------------------------------------------------------
                sleep(Duration.ofSeconds(10));
                assertThat(load.acceptedCount()).as("accepted in steady state").isGreaterThan(20);

                // ---- 2. kill -9 the leader of the inbound partitions ---------------------------------------------
                Map<Integer, Integer> leaders = kafka.leaders(relay.inbound);
                int first = mostFrequent(leaders);
                log("inbound partition leaders %s: SIGKILL node %d", leaders, first);
                kafka.node(first).kill();
                int acceptedAtFirstKill = load.acceptedCount();
                awaitOrFail("accepting again with one broker down", Duration.ofSeconds(60),
                        () -> load.acceptedCount() > acceptedAtFirstKill + 20);
                Map<Integer, Integer> newLeaders = kafka.leaders(relay.inbound);
                log("one broker down: accepted %d more; inbound leaders now %s", load.acceptedCount()
                        - acceptedAtFirstKill, newLeaders);
                assertThat(newLeaders.values()).as("no partition led by the killed node").doesNotContain(first);
                sleep(Duration.ofSeconds(5));

                // ---- 3. kill -9 a second broker ------------------------------------------------------------------
                int second = newLeaders.values().stream().filter(id -> id >= 0).findFirst().orElseThrow();
                kafka.node(second).kill();
                long secondKillAt = System.currentTimeMillis();
                int tempFailedAtSecondKill = load.tempFailed();
                log("SIGKILL node %d: two of three brokers down", second);
                sleep(Duration.ofSeconds(20));
                long restartAt = System.currentTimeMillis();
                int tempFailedWhileTwoDown = load.tempFailed() - tempFailedAtSecondKill;
                // a message whose DATA ended in this window may still get its 250 once the brokers are back (its
                // record then is on two logs): what must not happen is a 250 before that
                List<MailLoad.Sent> acceptedWhileTwoDown = load.accepted().values().stream()
                        .filter(s -> s.dataEndedAtMillis() >= secondKillAt && s.acceptedAtMillis() < restartAt)
                        .toList();
                log("while two brokers were down: %d answered 4xx, %d answered 250 for DATA ended then",
                        tempFailedWhileTwoDown, acceptedWhileTwoDown.size());
                assertThat(acceptedWhileTwoDown).as("250 for a message whose DATA ended while two of three brokers"
                        + " were down (acks=all, min.insync.replicas=2)").isEmpty();
                assertThat(tempFailedWhileTwoDown).as("clients were told 4xx while two brokers were down")
                        .isPositive();

                // ---- 4. both back --------------------------------------------------------------------------------
                kafka.node(first).restart();
                kafka.node(second).restart();
                kafka.awaitAllBrokers();
                int acceptedAtRestart = load.acceptedCount();
                awaitOrFail("accepting again after the brokers are back", Duration.ofSeconds(90),
                        () -> load.acceptedCount() > acceptedAtRestart + 20);
                log("brokers back in %d s after the restart began", (System.currentTimeMillis() - restartAt) / 1000);

                load.stop(Duration.ofSeconds(60));
                assertThat(load.permanentFailures()).as("permanent refusals").isEmpty();

                // ---- reconciliation ----------------------------------------------------------------------------
                Map<String, MailLoad.Sent> accepted = load.accepted();
                awaitQuietly(Duration.ofSeconds(120), () -> capturedIds(capture).keySet()
                        .containsAll(accepted.keySet()));
                sleep(Duration.ofSeconds(3)); // late redeliveries land, so duplicates are counted fully
                Map<String, Integer> delivered = capturedIds(capture);
                Set<String> lost = new HashSet<>(accepted.keySet());
                lost.removeAll(delivered.keySet());
                int deliveredCount = (int) accepted.keySet().stream().filter(delivered::containsKey).count();
                int duplicates = delivered.entrySet().stream().filter(e -> accepted.containsKey(e.getKey()))
                        .mapToInt(e -> e.getValue() - 1).sum();
                String reconciliation = String.format("accepted %d (250), temp-failed %d (4xx), delivered %d, "
                                + "duplicates %d, lost %d", accepted.size(), load.tempFailed(), deliveredCount,
                        duplicates, lost.size());
                log("connection errors %d, outcome unknown (cut after the final dot) %d, 4xx by code %s",
                        load.connectionErrors(), load.unknownOutcome(), load.tempFailures());
                log("%s (in %d s)", reconciliation, seconds(t0));
                assertThat(lost).as(reconciliation).isEmpty();
                assertThat(deliveredCount).as(reconciliation).isEqualTo(accepted.size());
            }
        }
    }

    /** The test's topics really are replicated as production's: 3 replicas in sync, min.insync.replicas 2. */
    private static void assertReplicated(RelayCluster relay) throws Exception {
        try (Admin admin = relay.admin()) {
            TopicDescription inbound = admin.describeTopics(List.of(relay.inbound)).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(relay.inbound);
            for (TopicPartitionInfo p : inbound.partitions()) {
                assertThat(p.replicas()).as("replicas of " + relay.inbound + "-" + p.partition()).hasSize(3);
            }
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, relay.inbound);
            Config config = admin.describeConfigs(List.of(topic)).all().get(30, TimeUnit.SECONDS).get(topic);
            assertThat(config.get("min.insync.replicas").value()).isEqualTo("2");
            assertThat(config.get("unclean.leader.election.enable").value()).isEqualTo("false");
        }
    }

    /** The node that leads most partitions (the lowest id among equals). */
    private static int mostFrequent(Map<Integer, Integer> leaders) {
        Map<Integer, Long> counts = new TreeMap<>(leaders.values().stream().filter(id -> id >= 0)
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting())));
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    private static void log(String format, Object... args) {
        System.out.printf("[ReplicatedKafkaIT] " + format + "%n", args);
    }
}
