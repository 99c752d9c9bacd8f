package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
    private static final Duration PACE = Duration.ofMillis(400);
    private static final Duration PER_MESSAGE_DEADLINE = Duration.ofSeconds(90);
    private static final List<String> DEFAULT_TOPICS = List.of("relay.inbound.v1", "relay.outbound.v1",
            "relay.retry.v1.1s", "relay.retry.v1.2s", "relay.events.v1", "relay.dlq.v1");
    private static final Pattern QUEUED = Pattern.compile("^250 .*queued as ([0-9A-Z]{20})");
    private static final Pattern RECEIVED_ID = Pattern.compile("with [A-Z]+ id ([0-9A-Z]{20})");
    private static final Pattern POLICY_DECIDED = Pattern.compile("decided ([0-9A-Z]{20}):");
    private static final Pattern DELIVERY_DONE =
            Pattern.compile("\\[([0-9A-Z]{20})\\] attempt \\d+: delivered=([1-9])");

    private final String run = "scale-" + UUID.randomUUID().toString().substring(0, 8);
    private final String inbound = run + ".inbound";
    private final String outbound = run + ".outbound";
    /** The retry tier prefix ({@code relay.delivery.retry.topic-prefix}); tiers {@code .1s} and {@code .2s}. */
    private final String retry = run + ".retry";
    private final List<String> retryTiers = List.of(retry + ".1s", retry + ".2s");
    private final String events = run + ".events";
    private final String dlq = run + ".dlq";
    /** The rules topic ({@code relay.rules.topic}), so that rule sets other tests store cannot change ours. */
    private final String rules = run + ".rules";
    private final String policyGroup = run + "-policy";
    private final String deliveryGroup = run + "-delivery";
    private final String retryGroup = run + "-delivery-retry";

    /** Every process this test started, in start order; all stopped in the end, also on failure. */
    private final List<RelayInstance> started = new ArrayList<>();

    // client-side bookkeeping
    private final Map<String, Integer> accepted = new ConcurrentHashMap<>(); // queue id -> message number
    private final AtomicInteger tempFailed = new AtomicInteger();           // 4xx replies (incl. 421 at connect)
    private final AtomicInteger connectionErrors = new AtomicInteger();     // refused/reset/closed before DATA ended
    private final AtomicInteger unknownOutcome = new AtomicInteger();       // connection lost after DATA's final dot
    private final List<String> permanentFailures = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger nextMessage = new AtomicInteger();

    private volatile int relayPort;

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

        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try (Admin admin = admin(bootstrap); CaptureMx capture = CaptureMx.start(0, null)) {
            createTopics(admin);

            // ---- 1 ingress, 2 policy, 3 delivery, booted in parallel ------------------------------------------
            relayPort = RelayService.freePort();
            Map<String, String> ingressEnv = ingressEnv(bootstrap, keycloak.url());
            int ingressHttp = RelayService.freePort();
            RelayInstance ingress = track(RelayInstance.launch("ingress-service", "ingress-1", run, ingressEnv,
                    ingressHttp));
            List<RelayInstance> policies = new ArrayList<>();
            List<RelayInstance> deliveries = new ArrayList<>();
            for (int i = 1; i <= 2; i++) {
                policies.add(track(RelayInstance.launch("policy-service", "policy-" + i, run,
                        policyEnv(bootstrap, keycloak.url()), RelayService.freePort())));
            }
            for (int i = 1; i <= 3; i++) {
                deliveries.add(track(RelayInstance.launch("delivery-service", "delivery-" + i, run,
                        deliveryEnv(bootstrap, capture.port()), RelayService.freePort())));
            }
            for (RelayInstance instance : started) {
                instance.awaitReady(Duration.ofSeconds(120));
            }
            awaitGroup(admin, policyGroup, inbound, 2, Duration.ofSeconds(60));
            awaitGroup(admin, deliveryGroup, outbound, 3, Duration.ofSeconds(60));
            log("started in %d s: %s", seconds(t0), started);
            log("assignment %s: %s", policyGroup, assignment(admin, policyGroup));
            log("assignment %s: %s", deliveryGroup, assignment(admin, deliveryGroup));

            // ---- send from several clients ------------------------------------------------------------------
            long sendStart = System.nanoTime();
            List<Future<?>> senders = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                senders.add(clients.submit(() -> sendUntilDone(client)));
            }

            // every worker instance does some of the work before anything is killed
            awaitOrFail("40 messages accepted", Duration.ofSeconds(60), () -> accepted.size() >= 40);
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
            int acceptedAtWorkerKill = accepted.size();
            long killedAt = System.nanoTime();
            killedPolicy.kill();
            killedDelivery.kill();
            log("SIGKILL %s and %s after %d accepted", killedPolicy, killedDelivery, acceptedAtWorkerKill);
            CompletableFuture<String> failover = CompletableFuture.supplyAsync(() -> {
                try (Admin watcher = admin(bootstrap)) {
                    long policyDone = awaitGroupQuietly(watcher, policyGroup, inbound, 1, Duration.ofSeconds(60));
                    long deliveryDone = awaitGroupQuietly(watcher, deliveryGroup, outbound, 2, Duration.ofSeconds(60));
                    return String.format("policy group: all %d partitions with the survivor after %.1f s; delivery "
                                    + "group: all %d partitions with the 2 survivors after %.1f s", PARTITIONS,
                            (policyDone - killedAt) / 1e9, PARTITIONS, (deliveryDone - killedAt) / 1e9);
                }
            });

            // ---- kill -9 the ingress mid-stream and replace it on the same ports -----------------------------
            awaitOrFail("100 messages accepted", Duration.ofSeconds(90), () -> accepted.size() >= 100);
            int acceptedAtIngressKill = accepted.size();
            long ingressKilledAt = System.nanoTime();
            ingress.kill();
            log("SIGKILL %s after %d accepted", ingress, acceptedAtIngressKill);
            RelayInstance ingress2 = track(RelayInstance.launch("ingress-service", "ingress-2", run, ingressEnv,
                    ingressHttp)).awaitReady(Duration.ofSeconds(120));
            double ingressGap = (System.nanoTime() - ingressKilledAt) / 1e9;
            log("%s ready on the same ports %.1f s after the kill", ingress2, ingressGap);

            for (Future<?> sender : senders) {
                sender.get(3, TimeUnit.MINUTES);
            }
            long sendSeconds = seconds(sendStart);
            assertThat(permanentFailures).as("permanent refusals").isEmpty();
            assertThat(acceptedAtWorkerKill).as("workers killed mid-stream").isLessThan(MESSAGES);
            assertThat(acceptedAtIngressKill).as("ingress killed mid-stream").isLessThan(MESSAGES);
            log("sending done in %d s: %d accepted, %d temp-failed (4xx), %d connection errors, %d outcome unknown",
                    sendSeconds, accepted.size(), tempFailed.get(), connectionErrors.get(), unknownOutcome.get());
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
                            + " ids at the capture MX), duplicates %d, lost %d", accepted.size(), tempFailed.get(),
                    delivered.size(), duplicates, lost.size());
            log("%s", reconciliation);
            log("also: %d connection errors retried, %d sends with unknown outcome (connection cut after the final"
                            + " dot), %d messages delivered without a 250 seen by the client, %d records on %s; "
                            + "all %d in %d s (drain after sending %d s)", connectionErrors.get(),
                    unknownOutcome.get(), unacknowledged.size(), retryTiers.stream().mapToInt(t -> keysOn(bootstrap, t).size()).sum(), retryTiers,
                    MESSAGES,
                    seconds(t0), drainSeconds);
            assertThat(accepted).as("every message was eventually accepted").hasSize(MESSAGES);
            assertThat(lost).as("accepted (250) but never delivered: " + reconciliation).isEmpty();
        } finally {
            clients.shutdownNow();
            stopAll();
            cleanUp(bootstrap);
        }
    }

    // ---- SMTP clients ----------------------------------------------------------------------------------------

    private void sendUntilDone(int client) {
        while (true) {
            int n = nextMessage.getAndIncrement();
            if (n >= MESSAGES || Thread.currentThread().isInterrupted()) {
                return;
            }
            sendOne(client, n);
            sleep(PACE);
        }
    }

    /** Sends message {@code n} until the ingress answers 250 (retrying after 4xx and connection errors). */
    private void sendOne(int client, int n) {
        long deadline = System.nanoTime() + PER_MESSAGE_DEADLINE.toNanos();
        while (System.nanoTime() < deadline && !Thread.currentThread().isInterrupted()) {
            boolean dataSent = false;
            try (SmtpDialogue smtp = new SmtpDialogue(relayPort)) {
                String reply = expect(smtp.reply(), "220");
                if (reply == null) {
                    reply = expect(smtp.send("EHLO client-" + client + ".scale.example"), "250");
                }
                if (reply == null) {
                    reply = expect(smtp.send("MAIL FROM:<client-" + client + "@scale.example>"), "250");
                }
                if (reply == null) {
                    reply = expect(smtp.send("RCPT TO:<user-" + n + "@d" + (n % DOMAINS) + "." + run
                            + ".example.net>"), "250");
                }
                if (reply == null) {
                    reply = expect(smtp.send("DATA"), "354");
                }
                if (reply == null) {
                    dataSent = true;
                    reply = smtp.send("Subject: " + run + " message " + n + "\r\nX-Scale-Message: " + n
                            + "\r\n\r\nscale-out test message " + n + " from client " + client + "\r\n.");
                    Matcher queued = QUEUED.matcher(reply);
                    if (queued.find()) {
                        accepted.put(queued.group(1), n);
                        try {
                            smtp.send("QUIT");
                        } catch (IOException ignored) {
                            // accepted is accepted
                        }
                        return;
                    }
                }
                if (reply.startsWith("<closed>")) {
                    (dataSent ? unknownOutcome : connectionErrors).incrementAndGet();
                } else if (reply.startsWith("4")) {
                    tempFailed.incrementAndGet();
                } else {
                    permanentFailures.add("message " + n + ": " + reply.trim() + "\n" + smtp.transcript());
                    return;
                }
            } catch (IOException e) {
                (dataSent ? unknownOutcome : connectionErrors).incrementAndGet();
            }
            sleep(Duration.ofMillis(250));
        }
        permanentFailures.add("message " + n + " not accepted within " + PER_MESSAGE_DEADLINE.toSeconds() + " s");
    }

    /** {@code null} if {@code reply} starts with {@code code}, else the reply. */
    private static String expect(String reply, String code) {
        return reply.startsWith(code) ? null : reply;
    }

    // ---- services --------------------------------------------------------------------------------------------

    private Map<String, String> ingressEnv(String bootstrap, String keycloakUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("RELAY_INGRESS_KEYCLOAK_URL", keycloakUrl);
        env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(relayPort));
        env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(RelayService.freePort()));
        env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
        env.put("RELAY_INGRESS_PUBLISH_TOPIC", inbound);
        env.put("RELAY_RULES_TRUSTED_NETWORKS", "127.0.0.0/8");
        env.put("RELAY_RULES_TOPIC", rules);
        return env;
    }

    private Map<String, String> policyEnv(String bootstrap, String keycloakUrl) {
        return Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", bootstrap,
                "RELAY_POLICY_KEYCLOAK_URL", keycloakUrl,
                "RELAY_RULES_TRUSTED_NETWORKS", "127.0.0.0/8",
                "RELAY_RULES_TOPIC", rules,
                "RELAY_POLICY_TOPICS_INBOUND", inbound,
                "RELAY_POLICY_TOPICS_OUTBOUND", outbound,
                "RELAY_POLICY_TOPICS_EVENTS", events,
                "RELAY_POLICY_TOPICS_DLQ", dlq,
                "MP_MESSAGING_INCOMING_INBOUND_GROUP_ID", policyGroup);
    }

    private Map<String, String> deliveryEnv(String bootstrap, int capturePort) {
        return Map.ofEntries(
                Map.entry("KAFKA_BOOTSTRAP_SERVERS", bootstrap),
                Map.entry("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + capturePort),
                Map.entry("RELAY_DELIVERY_ALLOW_PRIVATE_DESTINATIONS", "true"),
                Map.entry("MP_MESSAGING_INCOMING_OUTBOUND_TOPIC", outbound),
                Map.entry("MP_MESSAGING_INCOMING_OUTBOUND_GROUP_ID", deliveryGroup),
                Map.entry("MP_MESSAGING_OUTGOING_MAIL_OUT_TOPIC", outbound),
                Map.entry("RELAY_DELIVERY_RETRY_TOPIC_PREFIX", retry),
                Map.entry("RELAY_DELIVERY_RETRY_SCHEDULE", "1s,2s"),
                Map.entry("RELAY_DELIVERY_RETRY_GROUP_ID", retryGroup),
                Map.entry("MP_MESSAGING_OUTGOING_EVENTS_OUT_TOPIC", events),
                Map.entry("MP_MESSAGING_OUTGOING_DLQ_OUT_TOPIC", dlq));
    }

    private RelayInstance track(RelayInstance instance) {
        synchronized (started) {
            started.add(instance);
        }
        return instance;
    }

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

    private void stopAll() {
        List<RelayInstance> all;
        synchronized (started) {
            all = new ArrayList<>(started);
        }
        List<CompletableFuture<Void>> stops = all.stream()
                .map(i -> CompletableFuture.runAsync(i::close)).toList();
        for (CompletableFuture<Void> stop : stops) {
            try {
                stop.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                log("could not stop an instance: %s", e);
            }
        }
        for (RelayInstance i : all) {
            if (i.isAlive()) {
                i.kill();
            }
        }
    }

    // ---- Kafka -----------------------------------------------------------------------------------------------

    private static Admin admin(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return Admin.create(props);
    }

    private void createTopics(Admin admin) throws Exception {
        Map<String, String> configs = Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                Integer.toString(KafkaBroker.MAX_MESSAGE_BYTES));
        admin.createTopics(Stream.concat(Stream.of(inbound, outbound, events, dlq), retryTiers.stream())
                .map(t -> new NewTopic(t, PARTITIONS, (short) 1).configs(configs)).toList())
                .all().get(60, TimeUnit.SECONDS);
        admin.createTopics(List.of(new NewTopic(rules, 1, (short) 1).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
                .all().get(60, TimeUnit.SECONDS);
    }

    /** Best effort: the topics and groups of this run are removed from the shared broker. */
    private void cleanUp(String bootstrap) {
        try (Admin admin = admin(bootstrap)) {
            admin.deleteConsumerGroups(List.of(policyGroup, deliveryGroup, retryGroup)).all().get(30, TimeUnit.SECONDS);
            admin.deleteTopics(Stream.concat(Stream.of(inbound, outbound, events, dlq, rules),
                    retryTiers.stream()).toList()).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log("cleanup of %s topics/groups incomplete: %s", run, e);
        }
    }

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

    // ---- capture MX ------------------------------------------------------------------------------------------

    /** Queue id (from Relay's Received: header) → how many copies the capture MX received. */
    private static Map<String, Integer> capturedIds(CaptureMx capture) {
        Map<String, Integer> ids = new HashMap<>();
        for (CapturedMessage m : capture.messages()) {
            Matcher id = RECEIVED_ID.matcher(new String(m.data(), 0, Math.min(m.data().length, 2048),
                    StandardCharsets.US_ASCII));
            ids.merge(id.find() ? id.group(1) : "?", 1, Integer::sum);
        }
        return ids;
    }

    // ---- small helpers ---------------------------------------------------------------------------------------

    private static void awaitOrFail(String what, Duration timeout, BooleanSupplier condition) {
        if (!awaitQuietly(timeout, condition)) {
            throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
        }
    }

    private static boolean awaitQuietly(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            sleep(Duration.ofMillis(250));
        }
        return condition.getAsBoolean();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long seconds(long sinceNanos) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - sinceNanos);
    }

    private static void log(String format, Object... args) {
        System.out.printf("[ScaleOutIT] " + format + "%n", args);
    }
}
