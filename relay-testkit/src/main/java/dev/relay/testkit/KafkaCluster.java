package dev.relay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;

/**
 * A replicated Kafka on one machine: {@code size} real broker processes on 127.0.0.1, each both broker and KRaft
 * controller, the controllers forming one quorum of {@code size} voters. Internal topics (consumer offsets,
 * transaction state) and new topics get replication factor 3 and {@code min.insync.replicas=2}, with unclean leader
 * election off, as production's Strimzi cluster has them (deploy/): a record acknowledged with {@code acks=all} is
 * on two brokers' logs, so killing any one broker loses nothing, and with two down producers get errors, not
 * acknowledgements.
 *
 * <p>Node {@code i} is KRaft node id {@code i}, with its data, configuration and (for a cluster a caller owns) log
 * and pid file in {@code <workDir>/kafka-<i>/}. All nodes are launched before any is awaited: a node becomes ready
 * only once a majority of the quorum runs.
 */
public final class KafkaCluster implements AutoCloseable {

    private final Path workDir;
    private final List<KafkaBroker> nodes;
    private final boolean owned;

    private KafkaCluster(Path workDir, List<KafkaBroker> nodes, boolean owned) {
        this.workDir = workDir;
        this.nodes = List.copyOf(nodes);
        this.owned = owned;
    }

    /**
     * A cluster owned by the caller (a test that kills brokers), on free ports chosen now, in a fresh
     * {@code workDir} (deleted first, and again at {@link #close()}). Its processes are killed when this JVM exits
     * if the caller did not close it.
     */
    public static KafkaCluster start(Path workDir, int size) {
        Path dir = workDir.toAbsolutePath().normalize();
        ManagedProcess.deleteRecursively(dir);
        int[] ports = freePorts(2 * size);
        List<Integer> brokerPorts = new ArrayList<>();
        List<Integer> controllerPorts = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            brokerPorts.add(ports[i]);
            controllerPorts.add(ports[size + i]);
        }
        KafkaCluster cluster = create(dir, brokerPorts, controllerPorts, i -> dir.resolve("kafka-" + i)
                .resolve("kafka.pid"), i -> dir.resolve("kafka-" + i).resolve("kafka.log"), false, true);
        cluster.nodes.forEach(n -> n.killOnExit("kafka-node-" + n.nodeId()));
        cluster.ensureStarted();
        return cluster;
    }

    /**
     * The detached cluster of {@code ./relay up} with {@code RELAY_KAFKA_BROKERS=3}: node {@code i} listens on
     * {@code brokerPorts[i]} and {@code controllerPorts[i]}, data in {@code <runDir>/kafka-<i>/}, kept across runs
     * (formatted only on the first start), pid and log files where the caller says.
     */
    static KafkaCluster local(Path runDir, List<Integer> brokerPorts, List<Integer> controllerPorts,
            java.util.function.IntFunction<Path> pidFile, java.util.function.IntFunction<Path> logFile) {
        return create(runDir.toAbsolutePath().normalize(), brokerPorts, controllerPorts, pidFile, logFile, true,
                false);
    }

    private static KafkaCluster create(Path dir, List<Integer> brokerPorts, List<Integer> controllerPorts,
            java.util.function.IntFunction<Path> pidFile, java.util.function.IntFunction<Path> logFile,
            boolean detached, boolean owned) {
        int size = brokerPorts.size();
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < size; i++) {
            voters.append(i == 0 ? "" : ",").append(i).append("@127.0.0.1:").append(controllerPorts.get(i));
        }
        String clusterId = existingClusterId(dir, size);
        if (clusterId == null) {
            clusterId = Uuid.randomUuid().toString();
        }
        List<KafkaBroker> nodes = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            nodes.add(new KafkaBroker(dir.resolve("kafka-" + i), brokerPorts.get(i), controllerPorts.get(i),
                    pidFile.apply(i), logFile.apply(i), detached, i, voters.toString(), size, clusterId));
        }
        return new KafkaCluster(dir, nodes, owned);
    }

    /** The cluster id a node's storage was formatted with, so that a node formatted later joins the same cluster. */
    private static String existingClusterId(Path dir, int size) {
        for (int i = 0; i < size; i++) {
            Path meta = dir.resolve("kafka-" + i).resolve("data").resolve("meta.properties");
            if (Files.isRegularFile(meta)) {
                try {
                    for (String line : Files.readAllLines(meta, StandardCharsets.UTF_8)) {
                        if (line.startsWith("cluster.id=")) {
                            return line.substring("cluster.id=".length()).trim();
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return null;
    }

    /**
     * Launches every node that is not running yet (by pid file or port), then waits until each is ready and the
     * cluster reports all of them.
     */
    void ensureStarted() {
        for (KafkaBroker node : nodes) {
            ManagedProcess running = ManagedProcess.adopt(node.pidFile, node.logFile);
            if (running != null || ManagedProcess.isListening("127.0.0.1", node.port())) {
                node.process = running;
            } else {
                node.launch();
            }
        }
        for (KafkaBroker node : nodes) {
            node.awaitReady();
        }
        awaitAllBrokers();
    }

    /** Waits until the cluster reports every node as a broker (for example after restarting killed nodes). */
    public void awaitAllBrokers() {
        try (Admin admin = KafkaBroker.admin(bootstrapServers())) {
            ManagedProcess.await("Kafka cluster at " + bootstrapServers() + " to report " + nodes.size() + " brokers",
                    KafkaBroker.START_TIMEOUT, null, () -> {
                        try {
                            return admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size() == nodes.size();
                        } catch (Exception e) {
                            return false;
                        }
                    });
        }
    }

    public List<KafkaBroker> nodes() {
        return nodes;
    }

    /** The node with this KRaft node id. */
    public KafkaBroker node(int nodeId) {
        return nodes.stream().filter(n -> n.nodeId() == nodeId).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + nodeId));
    }

    /** Every node's listener, so that clients can bootstrap while any of them is down. */
    public String bootstrapServers() {
        return nodes.stream().map(KafkaBroker::bootstrapServers).collect(Collectors.joining(","));
    }

    public int size() {
        return nodes.size();
    }

    /** Creates the relay's topics (see {@link KafkaBroker#createRelayTopics(String, int)}), replicated 3 times. */
    public void createRelayTopics() {
        KafkaBroker.createRelayTopics(bootstrapServers(), Math.min(3, nodes.size()));
    }

    /** Partition → node id of its current leader ({@code -1} while it has none). */
    public Map<Integer, Integer> leaders(String topic) {
        try (Admin admin = KafkaBroker.admin(bootstrapServers())) {
            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(topic);
            Map<Integer, Integer> leaders = new TreeMap<>();
            for (TopicPartitionInfo p : description.partitions()) {
                Node leader = p.leader();
                leaders.put(p.partition(), leader == null || leader.isEmpty() ? -1 : leader.id());
            }
            return leaders;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot describe " + topic + " on " + bootstrapServers(), e);
        }
    }

    /**
     * Stops every node that runs, all at the same time (gracefully, SIGKILL after the grace period): one after the
     * other, the last ones would wait out the grace period for a controlled shutdown that a quorum without majority
     * cannot grant. An owned cluster's data is deleted.
     */
    @Override
    public void close() {
        List<java.util.concurrent.CompletableFuture<Void>> stops = new ArrayList<>();
        for (KafkaBroker node : nodes) {
            ManagedProcess p = node.process();
            if (p != null && p.isAlive()) {
                stops.add(java.util.concurrent.CompletableFuture.runAsync(node::stop));
            }
        }
        stops.forEach(java.util.concurrent.CompletableFuture::join);
        if (owned) {
            ManagedProcess.deleteRecursively(workDir);
        }
    }

    private static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket socket = new ServerSocket(0);
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // free again either way
                }
            }
        }
    }

    @Override
    public String toString() {
        return "KafkaCluster(" + bootstrapServers() + ", " + workDir + ")";
    }
}
