package dev.relay.e2e;

import dev.relay.testkit.KafkaBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A whole Relay of separate processes for one test run: its own topics ({@code <run>.inbound} ...) and consumer
 * groups on the given broker, so that nothing other tests leave on the shared {@code relay.*} topics reaches it, and
 * the ingress, policy and delivery instances the test launches. Every instance is stopped at {@link #close()},
 * gracefully, then by SIGKILL if it hangs; topics and groups are deleted (best effort).
 */
final class RelayCluster implements AutoCloseable {

    static final int PARTITIONS = 6;

    final String run = "run-" + UUID.randomUUID().toString().substring(0, 8);
    final String inbound = run + ".inbound";
    final String outbound = run + ".outbound";
    /** Retry tier prefix ({@code relay.delivery.retry.topic-prefix}); the workers run the schedule 1s,2s. */
    final String retry = run + ".retry";
    final List<String> retryTiers = List.of(retry + ".1s", retry + ".2s");
    final String events = run + ".events";
    final String dlq = run + ".dlq";
    final String rules = run + ".rules";
    /** Rate-limit counts (compacted, {@code relay.limits.usage-topic}) and held messages of this run. */
    final String usage = run + ".usage";
    final String held = run + ".held";
    final String heldGroup = run + "-policy-held";
    final String policyGroup = run + "-policy";
    final String deliveryGroup = run + "-delivery";
    final String retryGroup = run + "-delivery-retry";
    /** The policy's trace store (docs/adr/0020): Kafka Streams application id of this run. */
    final String traceApplication = run + "-trace";

    private final String bootstrap;
    private final String keycloakUrl;
    private final List<RelayInstance> started = new ArrayList<>();

    RelayCluster(String bootstrap, String keycloakUrl) {
        this.bootstrap = bootstrap;
        this.keycloakUrl = keycloakUrl;
    }

    String bootstrap() {
        return bootstrap;
    }

    /**
     * Creates this run's topics with {@link #PARTITIONS} partitions (the rules topic compacted with one partition,
     * the usage topic compact,delete).
     */
    RelayCluster createTopics() throws Exception {
        return createTopics(1);
    }

    /**
     * As {@link #createTopics()} with {@code replicas} copies of each partition (on a {@code KafkaCluster}); with
     * more than one, each topic also gets {@code min.insync.replicas=2} and no unclean leader election, as
     * production's topics have ({@link KafkaBroker#replicationConfigs}).
     */
    RelayCluster createTopics(int replicas) throws Exception {
        short rf = (short) replicas;
        Map<String, String> replication = KafkaBroker.replicationConfigs(replicas);
        try (Admin admin = admin()) {
            Map<String, String> configs = new HashMap<>(replication);
            configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(KafkaBroker.MAX_MESSAGE_BYTES));
            admin.createTopics(Stream.concat(Stream.of(inbound, outbound, events, dlq, held), retryTiers.stream())
                    .map(t -> new NewTopic(t, PARTITIONS, rf).configs(configs)).toList())
                    .all().get(60, TimeUnit.SECONDS);
            Map<String, String> compacted = new HashMap<>(replication);
            compacted.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
            Map<String, String> usageConfigs = new HashMap<>(replication);
            usageConfigs.put(TopicConfig.CLEANUP_POLICY_CONFIG, "compact,delete");
            usageConfigs.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(TimeUnit.DAYS.toMillis(2)));
            admin.createTopics(List.of(new NewTopic(rules, 1, rf).configs(compacted),
                            new NewTopic(usage, PARTITIONS, rf).configs(usageConfigs)))
                    .all().get(60, TimeUnit.SECONDS);
        }
        return this;
    }

    // ---- environments ---------------------------------------------------------------------------------------

    /** An ingress on the given SMTP ports, trusting 127.0.0.0/8 for relaying without AUTH. */
    Map<String, String> ingressEnv(int relayPort, int submissionPort, int submissionsPort) {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("RELAY_INGRESS_KEYCLOAK_URL", keycloakUrl);
        env.put("RELAY_INGRESS_SMTP_RELAY_PORT", String.valueOf(relayPort));
        env.put("RELAY_INGRESS_SMTP_SUBMISSION_PORT", String.valueOf(submissionPort));
        env.put("RELAY_INGRESS_SMTP_SUBMISSIONS_PORT", String.valueOf(submissionsPort));
        env.put("RELAY_INGRESS_SMTP_INSTANCES", "1");
        env.put("RELAY_INGRESS_PUBLISH_TOPIC", inbound);
        env.put("RELAY_INGRESS_EVENTS_TOPIC", events);
        env.put("RELAY_RULES_TRUSTED_NETWORKS", "127.0.0.0/8");
        env.put("RELAY_RULES_TOPIC", rules);
        env.put("RELAY_LIMITS_USAGE_TOPIC", usage);
        return env;
    }

    Map<String, String> policyEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("RELAY_POLICY_KEYCLOAK_URL", keycloakUrl);
        env.put("RELAY_RULES_TRUSTED_NETWORKS", "127.0.0.0/8");
        env.put("RELAY_RULES_TOPIC", rules);
        env.put("RELAY_POLICY_TOPICS_INBOUND", inbound);
        env.put("RELAY_POLICY_TOPICS_OUTBOUND", outbound);
        env.put("RELAY_POLICY_TOPICS_EVENTS", events);
        env.put("RELAY_POLICY_TOPICS_DLQ", dlq);
        env.put("MP_MESSAGING_INCOMING_INBOUND_GROUP_ID", policyGroup);
        env.put("RELAY_LIMITS_USAGE_TOPIC", usage);
        env.put("RELAY_POLICY_TOPICS_HELD", held);
        env.put("RELAY_POLICY_LIMITS_HELD_GROUP", heldGroup);
        // the message trace's Kafka Streams application of this run (its group and changelog topic)
        env.put("QUARKUS_KAFKA_STREAMS_APPLICATION_ID", traceApplication);
        return env;
    }

    /** A delivery worker; add either a smarthost or DNS settings. */
    Map<String, String> deliveryEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true");
        env.put("MP_MESSAGING_INCOMING_OUTBOUND_TOPIC", outbound);
        env.put("MP_MESSAGING_INCOMING_OUTBOUND_GROUP_ID", deliveryGroup);
        env.put("MP_MESSAGING_OUTGOING_MAIL_OUT_TOPIC", outbound); // DSNs
        env.put("RELAY_DELIVERY_RETRY_TOPIC_PREFIX", retry);
        env.put("RELAY_DELIVERY_RETRY_SCHEDULE", "1s,2s");
        env.put("RELAY_DELIVERY_RETRY_GROUP_ID", retryGroup);
        env.put("MP_MESSAGING_OUTGOING_EVENTS_OUT_TOPIC", events);
        env.put("MP_MESSAGING_OUTGOING_DLQ_OUT_TOPIC", dlq);
        return env;
    }

    // ---- instances ------------------------------------------------------------------------------------------

    /** Launches without waiting (see {@link RelayInstance#launch}); tracked for {@link #close()}. */
    RelayInstance launch(String module, String name, Map<String, String> env, int httpPort) {
        return launch(module, name, env, httpPort, List.of());
    }

    /** As {@link #launch(String, String, Map, int)} with extra JVM options (see {@link RelayInstance#launch}). */
    RelayInstance launch(String module, String name, Map<String, String> env, int httpPort, List<String> jvmOptions) {
        RelayInstance instance = RelayInstance.launch(module, name, run, env, httpPort, jvmOptions);
        synchronized (started) {
            started.add(instance);
        }
        return instance;
    }

    List<RelayInstance> started() {
        synchronized (started) {
            return List.copyOf(started);
        }
    }

    Admin admin() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return Admin.create(props);
    }

    /** Stops every instance (in parallel, gracefully, SIGKILL after 20 s), then removes topics and groups. */
    @Override
    public void close() {
        List<RelayInstance> all = started();
        List<CompletableFuture<Void>> stops = all.stream().map(i -> CompletableFuture.runAsync(i::close)).toList();
        for (CompletableFuture<Void> stop : stops) {
            try {
                stop.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                System.out.println("[RelayCluster] could not stop an instance: " + e);
            }
        }
        all.stream().filter(RelayInstance::isAlive).forEach(RelayInstance::kill);
        try (Admin admin = admin()) {
            admin.deleteConsumerGroups(List.of(policyGroup, deliveryGroup, retryGroup, heldGroup)).all()
                    .get(30, TimeUnit.SECONDS);
            admin.deleteTopics(Stream.concat(Stream.of(inbound, outbound, events, dlq, held, rules, usage),
                    retryTiers.stream())
                    .toList()).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.out.println("[RelayCluster] cleanup of " + run + " topics/groups incomplete: " + e);
        }
    }
}
