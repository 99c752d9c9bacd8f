package dev.relay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A real Apache Kafka 4.1.2 broker process: one node that is both broker and KRaft controller, listening on
 * 127.0.0.1. Alone it is a cluster of one (replication factor 1); as a node of a {@link KafkaCluster} it votes in
 * the cluster's controller quorum and the cluster's topics are replicated. The classpath is
 * {@code <root>/.cache/kafka-4.1.2/libs/*}, fetched by relay-testkit/infra.
 */
public final class KafkaBroker extends LocalServer {

    public static final String KAFKA_VERSION = "4.1.2";
    public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    /**
     * The retry tiers of the delivery service (relay.delivery.retry.topic-prefix + "." + delay): those of the
     * default schedule {@code 1m,5m,15m,30m,1h,2h,4h,8h} and of the short schedule {@code 1s,2s} that tests
     * configure. Spelled out here because relay-common (which names them, Topics.retryTiers) uses the testkit
     * for its own tests; delivery-service's tests check that the two agree.
     */
    public static final List<String> RETRY_TIERS = List.of("relay.retry.v1.1m", "relay.retry.v1.5m",
            "relay.retry.v1.15m", "relay.retry.v1.30m", "relay.retry.v1.1h", "relay.retry.v1.2h", "relay.retry.v1.4h",
            "relay.retry.v1.8h", "relay.retry.v1.1s", "relay.retry.v1.2s");

    /** The relay's topics with their partition counts; {@code relay.rules.v1} is compacted. */
    public static final Map<String, Integer> RELAY_TOPICS = relayTopics();
    public static final String RELAY_RULES_TOPIC = "relay.rules.v1";
    /** Per-instance rate-limit counts: compacted, and old windows deleted after two days. */
    public static final String RELAY_USAGE_TOPIC = "relay.usage.v1";
    /** The suppression list: compacted, key = lower-cased address (as {@code SuppressionTopic} creates it). */
    public static final String RELAY_SUPPRESSION_TOPIC = "relay.suppression.v1";

    private static Map<String, Integer> relayTopics() {
        Map<String, Integer> topics = new java.util.LinkedHashMap<>();
        for (String name : List.of("relay.inbound.v1", "relay.outbound.v1", "relay.events.v1", "relay.dlq.v1",
                "relay.held.v1")) {
            topics.put(name, 3);
        }
        RETRY_TIERS.forEach(tier -> topics.put(tier, 3));
        return java.util.Collections.unmodifiableMap(topics);
    }

    static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private static KafkaBroker shared;

    private final Path workDir;
    private final int controllerPort;
    /** KRaft node id; 1 for a broker alone, the index in its cluster otherwise. */
    private final int nodeId;
    /** {@code controller.quorum.voters}: this node alone, or every node of its cluster. */
    private final String voters;
    /** Nodes in the cluster: the replication factor of the internal topics and of new topics. */
    private final int clusterSize;
    /** The cluster id to format storage with; {@code null}: a new random one (a broker alone). */
    private final String clusterId;

    private KafkaBroker(Path workDir, int port, int controllerPort, Path pidFile, Path logFile, boolean detached) {
        this(workDir, port, controllerPort, pidFile, logFile, detached, 1, "1@127.0.0.1:" + controllerPort, 1, null);
    }

    /** A node of a {@link KafkaCluster}. */
    KafkaBroker(Path workDir, int port, int controllerPort, Path pidFile, Path logFile, boolean detached, int nodeId,
            String voters, int clusterSize, String clusterId) {
        super(port, pidFile, logFile, detached, STOP_GRACE);
        this.workDir = workDir.toAbsolutePath().normalize();
        this.controllerPort = controllerPort;
        this.nodeId = nodeId;
        this.voters = voters;
        this.clusterSize = clusterSize;
        this.clusterId = clusterId;
    }

    /**
     * The build-wide test broker on 127.0.0.1:{@code relay.test.kafka.port} (default 19092, controller on the next
     * port). Reused if something already listens there; otherwise started in a fresh
     * {@code <root>/.cache/test-run/kafka} and left running when this JVM exits, so that the next module reuses it.
     * {@code ./relay test} stops it afterwards ({@code LocalStack test-infra-down}).
     */
    public static synchronized KafkaBroker shared() {
        if (shared != null && shared.isRunning()) {
            return shared;
        }
        int port = Integer.getInteger("relay.test.kafka.port", 19092);
        Path runDir = testRunDir();
        KafkaBroker broker = new KafkaBroker(runDir.resolve("kafka"), port, port + 1, runDir.resolve("kafka.pid"),
                runDir.resolve("kafka.log"), true);
        Support.withFileLock(runDir.resolve("kafka.lock"), () -> {
            ManagedProcess running = ManagedProcess.adopt(broker.pidFile, broker.logFile);
            if (running != null || ManagedProcess.isListening("127.0.0.1", port)) {
                broker.process = running;
            } else {
                ManagedProcess.deleteRecursively(broker.workDir);
                broker.launch();
            }
            broker.awaitReady();
            return null;
        });
        shared = broker;
        return broker;
    }

    /**
     * A broker owned by the caller (for example a test that stops or kills Kafka), with its data, log and pid file in
     * {@code workDir}. Storage is formatted only if {@code workDir} holds none yet. Killed when this JVM exits if the
     * caller did not stop it.
     */
    public static KafkaBroker start(Path workDir, int port, int controllerPort) {
        KafkaBroker broker = new KafkaBroker(workDir, port, controllerPort, workDir.resolve("kafka.pid"),
                workDir.resolve("kafka.log"), false);
        broker.launch();
        broker.killOnExit("kafka-broker");
        broker.awaitReady();
        return broker;
    }

    /** A detached broker for {@code ./relay up}: data kept across runs, formatted only on the first start. */
    static KafkaBroker local(Path workDir, int port, int controllerPort, Path pidFile, Path logFile) {
        return new KafkaBroker(workDir, port, controllerPort, pidFile, logFile, true);
    }

    static Path testRunDir() {
        return RelayRoot.get().resolve(".cache").resolve("test-run");
    }

    static Path kafkaLibs() {
        Path libs = RelayRoot.get().resolve(".cache").resolve("kafka-" + KAFKA_VERSION).resolve("libs");
        if (!Files.isDirectory(libs)) {
            throw new IllegalStateException("Kafka is not fetched yet: " + libs + " is missing. Run: mvn -B -q -f"
                    + " relay-testkit/infra/pom.xml generate-resources");
        }
        return libs;
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public int controllerPort() {
        return controllerPort;
    }

    public Path workDir() {
        return workDir;
    }

    /** The KRaft node id (what the admin client reports as a partition's leader). */
    public int nodeId() {
        return nodeId;
    }

    /** Starts the broker again on the same ports and data (stopping it first if it still runs); waits until ready. */
    public void restart() {
        if (isRunning()) {
            stop();
        }
        ManagedProcess.awaitFree("127.0.0.1", port, Duration.ofSeconds(10));
        ManagedProcess.awaitFree("127.0.0.1", controllerPort, Duration.ofSeconds(10));
        launch();
        awaitReady();
    }

    /** Starts this broker if nothing runs yet (pid file or port); waits until it is ready. Used by LocalStack. */
    void ensureStarted() {
        ManagedProcess running = ManagedProcess.adopt(pidFile, logFile);
        if (running != null || ManagedProcess.isListening("127.0.0.1", port)) {
            process = running;
        } else {
            launch();
        }
        awaitReady();
    }

    // ---------------------------------------------------------------------------------------------------------------

    void launch() {
        try {
            Files.createDirectories(workDir);
            Path properties = workDir.resolve("server.properties");
            Path dataDir = workDir.resolve("data");
            Files.writeString(properties, serverProperties(dataDir), StandardCharsets.UTF_8);
            Path log4j = workDir.resolve("log4j2.properties");
            Files.writeString(log4j, LOG4J2, StandardCharsets.UTF_8);
            if (!Files.exists(dataDir.resolve("meta.properties"))) {
                format(properties);
            }
            // C1 only, like the services (ADR 0007): on a 2-core machine the broker's C2 recompilations otherwise
            // take a varying share of the CPU long after warm-up, and make benchmark runs differ by a third
            List<String> cmd = javaCommand("-Xms256m", "-Xmx512m", "-XX:TieredStopAtLevel=1");
            cmd.add("kafka.Kafka");
            cmd.add(properties.toString());
            process = ManagedProcess.start("kafka", cmd, workDir, Map.of(), logFile, pidFile, detached);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code kafka.tools.StorageTool format -t <id> -c server.properties} (no --standalone: voters are configured). */
    private void format(Path properties) throws IOException {
        // the same as `kafka.tools.StorageTool random-uuid`, without a JVM start
        String clusterId = this.clusterId != null ? this.clusterId : Uuid.randomUuid().toString();
        List<String> cmd = javaCommand("-Xmx256m");
        cmd.addAll(List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", properties.toString()));
        ManagedProcess tool = ManagedProcess.start("kafka-storage-format", cmd, workDir, Map.of(), logFile, null);
        int exit;
        try {
            exit = tool.waitFor(Duration.ofSeconds(120));
        } finally {
            if (tool.isAlive()) {
                tool.kill();
            }
        }
        if (exit != 0 || !Files.exists(workDir.resolve("data").resolve("meta.properties"))) {
            throw new IllegalStateException("formatting Kafka storage failed (exit " + exit + "); " + logFile
                    + " ends with:" + System.lineSeparator() + tool.logTail(30));
        }
    }

    private List<String> javaCommand(String... options) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ManagedProcess.javaExecutable());
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
                "-Dlog4j2.configurationFile=" + workDir.resolve("log4j2.properties"),
                "-Dkafka.logs.dir=" + workDir.resolve("logs"),
                "-cp", kafkaLibs().resolve("*").toString()));
        return cmd;
    }

    private String serverProperties(Path dataDir) {
        // replicated as production is (deploy/): every record on 3 logs, a 250 only once 2 of them have it, and a
        // replica that missed records never becomes leader; alone, the only possible replication factor is 1
        int replicas = Math.min(3, clusterSize);
        int minInSync = Math.min(2, replicas);
        return String.join("\n",
                "# generated by dev.relay.testkit.KafkaBroker: " + (clusterSize == 1 ? "single node" : "node " + nodeId
                        + " of " + clusterSize) + ", broker and KRaft controller",
                "process.roles=broker,controller",
                "node.id=" + nodeId,
                "controller.quorum.voters=" + voters,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + dataDir,
                "num.partitions=3",
                "auto.create.topics.enable=false",
                "default.replication.factor=" + replicas,
                "min.insync.replicas=" + minInSync,
                "unclean.leader.election.enable=false",
                "offsets.topic.replication.factor=" + replicas,
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=" + replicas,
                "transaction.state.log.min.isr=" + minInSync,
                "transaction.state.log.num.partitions=10",
                "share.coordinator.state.topic.replication.factor=" + replicas,
                "share.coordinator.state.topic.min.isr=" + minInSync,
                "group.initial.rebalance.delay.ms=0",
                "message.max.bytes=" + MAX_MESSAGE_BYTES,
                "replica.fetch.max.bytes=" + MAX_MESSAGE_BYTES,
                "num.network.threads=2",
                "num.io.threads=4",
                "")
                + "\n";
    }

    private static final String LOG4J2 = String.join("\n",
            "# generated by dev.relay.testkit.KafkaBroker: everything to stdout, which goes to the broker's log file",
            "appender.out.type=Console",
            "appender.out.name=STDOUT",
            "appender.out.layout.type=PatternLayout",
            "appender.out.layout.pattern=[%d] %p %m (%c)%n",
            "rootLogger.level=INFO",
            "rootLogger.appenderRef.out.ref=STDOUT",
            "logger.state.name=state.change.logger",
            "logger.state.level=WARN",
            "logger.request.name=kafka.request.logger",
            "logger.request.level=WARN",
            "") + "\n";

    /** Ready = the port listens and an admin client can describe the cluster. */
    void awaitReady() {
        ManagedProcess p = process;
        ManagedProcess.awaitListening("127.0.0.1", port, START_TIMEOUT, p);
        try (Admin admin = admin(bootstrapServers())) {
            ManagedProcess.await("Kafka at " + bootstrapServers() + " to describe its cluster", START_TIMEOUT, p, () -> {
                try {
                    return !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty();
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    static Admin admin(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "relay-testkit");
        return Admin.create(props);
    }

    /** Creates the topics with {@code partitions} partitions each; topics that already exist are left as they are. */
    public void createTopics(Collection<String> names, int partitions) {
        List<NewTopic> topics = new ArrayList<>();
        for (String name : names) {
            topics.add(new NewTopic(name, partitions, (short) 1));
        }
        createTopics(bootstrapServers(), topics);
    }

    /** Creates a compacted topic with one partition, unless it exists. */
    public void createCompactedTopic(String name) {
        createTopics(bootstrapServers(), List.of(new NewTopic(name, 1, (short) 1)
                .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))));
    }

    /**
     * Creates the relay's topics on {@code bootstrap}: relay.inbound/outbound/events/dlq/held.v1 and the retry tiers
     * relay.retry.v1.&lt;delay&gt; with 3 partitions, the compacted relay.rules.v1 with 1, the compacted
     * relay.suppression.v1 with 3 and relay.usage.v1
     * (compact,delete) with 3, all allowing 16 MiB records. Idempotent.
     */
    public static void createRelayTopics(String bootstrap) {
        createRelayTopics(bootstrap, 1);
    }

    /**
     * As {@link #createRelayTopics(String)} with {@code replicas} copies of every partition; with more than one,
     * {@code min.insync.replicas=2} and {@code unclean.leader.election.enable=false} on each topic, as production
     * has them: with {@code acks=all} a record is acknowledged only once two brokers have it, and a replica that
     * missed acknowledged records is never elected leader.
     */
    public static void createRelayTopics(String bootstrap, int replicas) {
        short rf = (short) replicas;
        Map<String, String> replication = replicationConfigs(replicas);
        Map<String, String> max = new java.util.HashMap<>(replication);
        max.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MESSAGE_BYTES));
        List<NewTopic> topics = new ArrayList<>();
        RELAY_TOPICS.forEach((name, partitions) -> topics.add(new NewTopic(name, partitions, rf).configs(max)));
        Map<String, String> rules = new java.util.HashMap<>(max);
        rules.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
        topics.add(new NewTopic(RELAY_RULES_TOPIC, 1, rf).configs(rules));
        topics.add(new NewTopic(RELAY_SUPPRESSION_TOPIC, 3, rf).configs(rules));
        NewTopic usage = usageTopic(RELAY_USAGE_TOPIC, 3);
        Map<String, String> usageConfigs = new java.util.HashMap<>(usage.configs());
        usageConfigs.putAll(replication);
        topics.add(new NewTopic(RELAY_USAGE_TOPIC, 3, rf).configs(usageConfigs));
        createTopics(bootstrap, topics);
    }

    /** The per-topic settings of a replicated topic (none for a topic with one replica). */
    public static Map<String, String> replicationConfigs(int replicas) {
        if (replicas <= 1) {
            return Map.of();
        }
        return Map.of(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(Math.min(2, replicas)),
                TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG, "false");
    }

    /** Creates a usage topic like relay.usage.v1 (compact,delete; 2 days), unless it exists. */
    public void createUsageTopic(String name) {
        createTopics(bootstrapServers(), List.of(usageTopic(name, 3)));
    }

    private static NewTopic usageTopic(String name, int partitions) {
        return new NewTopic(name, partitions, (short) 1).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(Duration.ofDays(2).toMillis())));
    }

    static void createTopics(String bootstrap, List<NewTopic> topics) {
        try (Admin admin = admin(bootstrap)) {
            var result = admin.createTopics(topics);
            for (var entry : result.values().entrySet()) {
                try {
                    entry.getValue().get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + entry.getKey() + " on " + bootstrap,
                                e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("timed out creating topics on " + bootstrap, e);
        }
    }

    @Override
    public String toString() {
        return "KafkaBroker(" + bootstrapServers() + ", " + workDir + ")";
    }
}
