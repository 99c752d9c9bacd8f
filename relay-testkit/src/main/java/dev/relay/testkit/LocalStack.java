package dev.relay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;

/**
 * The engine behind {@code ./relay up|down|status}: runs the whole system on this machine as real, detached processes
 * (Kafka, Keycloak, the capture MX, the three services), tracked by pid files in {@code <root>/.run/}, with logs in
 * {@code .run/logs/<component>.log} and captured mail in {@code .run/mail/}.
 *
 * <p>{@code up} is idempotent: a component whose pid file names a live process, or whose port already listens, is not
 * started again. The environment of {@code up} reaches every child; the defaults in {@link #COMPONENTS} are added only
 * for variables that are not set.
 *
 * <p>{@code RELAY_KAFKA_BROKERS=3} replaces the single broker ({@code kafka}, RF 1) by a replicated cluster of three
 * nodes ({@code kafka-0..2}, each broker and KRaft controller; see {@link KafkaCluster}): bootstrap still
 * {@code 127.0.0.1:9092}, the other brokers on 9093 and 9094, the controllers on 9095-9097; topics with replication
 * factor 3 and {@code min.insync.replicas=2}, as production has. {@code down} and {@code status} find out from the
 * pid files which of the two runs.
 */
public final class LocalStack {

    enum Kind { KAFKA, KEYCLOAK, CAPTURE_MX, QUARKUS }

    /**
     * One component of the local stack.
     *
     * @param name       short name: pid file {@code .run/<name>.pid}, log {@code .run/logs/<name>.log}
     * @param port       the port that {@code status} shows (for a service: its HTTP port)
     * @param otherPorts further ports it listens on, checked to be free after {@code down}
     * @param module     for a service: its Maven module, run as {@code <module>/target/quarkus-app/quarkus-run.jar}
     * @param env        environment defaults, added when the variable is not set already
     */
    record Component(String name, Kind kind, int port, List<Integer> otherPorts, String module,
            Map<String, String> env) {
    }

    /** The selector of the development DKIM keys ({@code .run/dkim/relay._domainkey.<domain>.txt}). */
    static final String DKIM_SELECTOR = "relay";

    /** Defaults for every service. */
    static final Map<String, String> SERVICE_ENV = Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092",
            // the demo users' mailboxes: the local domain's recipients that exist (others get 550 5.1.1 at RCPT)
            "RELAY_RULES_LOCAL_RECIPIENTS", "demo@example.test,norelay@example.test,relayadmin@example.test",
            // the seed signs mail whose header From is in a local domain with the development key "relay"
            "RELAY_RULES_DKIM_SELECTOR", DKIM_SELECTOR);

    /** The stack in start order; {@code down} stops it in reverse order. */
    static final List<Component> COMPONENTS = List.of(
            new Component("kafka", Kind.KAFKA, 9092, List.of(9093), null, Map.of()),
            new Component("keycloak", Kind.KEYCLOAK, 8180, List.of(), null, Map.of()),
            new Component("capture-mx", Kind.CAPTURE_MX, 2526, List.of(), null, Map.of()),
            new Component("ingress", Kind.QUARKUS, 8081, List.of(2525, 2587, 2465), "ingress-service", Map.of(
                    "QUARKUS_HTTP_PORT", "8081",
                    "RELAY_INGRESS_KEYCLOAK_URL", "http://127.0.0.1:8180")),
            new Component("policy", Kind.QUARKUS, 8082, List.of(), "policy-service", Map.of(
                    "QUARKUS_HTTP_PORT", "8082",
                    // the development DKIM keys (DkimDevKeys), relative to the root the services run in
                    "RELAY_POLICY_DKIM_KEYS_DIR", DkimDevKeys.KEYS_DIR)),
            new Component("delivery", Kind.QUARKUS, 8083, List.of(), "delivery-service", Map.of(
                    "QUARKUS_HTTP_PORT", "8083",
                    // the capture MX on loopback: an internal next hop, the one private address allowed
                    "RELAY_DELIVERY_SMARTHOST", "127.0.0.1:2526;internal")));

    /** Broker ports of the 3-node cluster (the first is the bootstrap the single broker also uses). */
    static final List<Integer> CLUSTER_BROKER_PORTS = List.of(9092, 9093, 9094);
    static final List<Integer> CLUSTER_CONTROLLER_PORTS = List.of(9095, 9096, 9097);

    /**
     * The stack with {@code brokers} Kafka nodes: {@link #COMPONENTS} as it is for 1, its {@code kafka} replaced by
     * {@code kafka-0..2} for 3.
     */
    static List<Component> components(int brokers) {
        if (brokers == 1) {
            return COMPONENTS;
        }
        List<Component> all = new ArrayList<>();
        for (int i = 0; i < CLUSTER_BROKER_PORTS.size(); i++) {
            all.add(new Component("kafka-" + i, Kind.KAFKA, CLUSTER_BROKER_PORTS.get(i),
                    List.of(CLUSTER_CONTROLLER_PORTS.get(i)), null, Map.of()));
        }
        COMPONENTS.stream().filter(c -> c.kind() != Kind.KAFKA).forEach(all::add);
        return List.copyOf(all);
    }

    /** {@code RELAY_KAFKA_BROKERS}: 1 (default) or 3. */
    static int requestedBrokers(String value) {
        if (value == null || value.isBlank() || value.trim().equals("1")) {
            return 1;
        }
        if (value.trim().equals("3")) {
            return 3;
        }
        throw new IllegalArgumentException("RELAY_KAFKA_BROKERS must be 1 or 3, not " + value);
    }

    static final String HOST = "127.0.0.1";
    private static final Duration SERVICE_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final Path root;
    private final Path run;
    private final Path logs;
    private final int brokers;
    private final List<Component> components;

    LocalStack(Path root) {
        this(root, requestedBrokers(System.getenv("RELAY_KAFKA_BROKERS")));
    }

    LocalStack(Path root, int brokers) {
        this.root = root;
        this.run = root.resolve(".run");
        this.logs = run.resolve("logs");
        this.brokers = brokers;
        this.components = components(brokers);
    }

    /**
     * The stack as it runs: the 3-node layout if a pid file of it names a live process, the single broker if its
     * does, otherwise what {@code RELAY_KAFKA_BROKERS} asks for. Used by {@code down} and {@code status}, so that
     * they need not be told how {@code up} was started.
     */
    static LocalStack running(Path root) {
        Path run = root.resolve(".run");
        for (int i = 0; i < CLUSTER_BROKER_PORTS.size(); i++) {
            if (ManagedProcess.adopt(run.resolve("kafka-" + i + ".pid")) != null) {
                return new LocalStack(root, 3);
            }
        }
        if (ManagedProcess.adopt(run.resolve("kafka.pid")) != null) {
            return new LocalStack(root, 1);
        }
        return new LocalStack(root);
    }

    public static void main(String[] args) {
        // kafka-clients (the admin client) logs through SLF4J; the launcher has no provider and needs no warning
        System.setProperty("slf4j.internal.verbosity", "ERROR");
        String command = args.length == 0 ? "" : args[0];
        int exit;
        try {
            switch (command) {
                case "up":
                    exit = new LocalStack(RelayRoot.get()).up();
                    break;
                case "down":
                    exit = running(RelayRoot.get()).down();
                    break;
                case "status":
                    exit = running(RelayRoot.get()).status();
                    break;
                case "test-infra-down":
                    exit = testInfraDown();
                    break;
                default:
                    System.err.println("usage: LocalStack up|down|status|test-infra-down");
                    exit = 2;
            }
        } catch (RuntimeException e) {
            System.out.flush();
            System.err.println();
            System.err.println("FAILED: " + e.getMessage());
            exit = 1;
        }
        System.out.flush();
        System.exit(exit);
    }

    // ---------------------------------------------------------------------------------------------------------------

    int up() {
        try {
            Files.createDirectories(logs);
            Files.createDirectories(run.resolve("mail"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        refuseOtherKafkaLayout();
        List<Path> dkimRecords = DkimDevKeys.ensure(root, localDomains(), DKIM_SELECTOR);
        for (Component c : components) {
            if (c.kind() == Kind.KAFKA && brokers > 1) {
                if (c.name().equals("kafka-0")) {
                    startCluster();
                }
                continue;
            }
            long started = System.nanoTime();
            System.out.printf("%-11s ", c.name());
            System.out.flush();
            String how = start(c);
            System.out.printf("%s (%.1f s)%n", how, (System.nanoTime() - started) / 1e9);
        }
        printEndpoints();
        System.out.println("DKIM (development keys, selector " + DKIM_SELECTOR + "): mail whose header From is in a"
                + " local domain is signed; the DNS TXT values a receiver needs are in");
        dkimRecords.forEach(p -> System.out.println("  " + root.relativize(p)));
        return 0;
    }

    /** The local domains the services will use: {@code RELAY_RULES_LOCAL_DOMAINS}, else the default. */
    static List<String> localDomains() {
        String value = System.getenv().getOrDefault("RELAY_RULES_LOCAL_DOMAINS", "example.test");
        return java.util.Arrays.stream(value.split(",")).map(String::trim).filter(d -> !d.isEmpty()).toList();
    }

    /** The single broker and the cluster share port 9092: one of them at a time. */
    private void refuseOtherKafkaLayout() {
        List<String> other = new ArrayList<>();
        if (brokers == 1) {
            for (int i = 0; i < CLUSTER_BROKER_PORTS.size(); i++) {
                other.add("kafka-" + i);
            }
        } else {
            other.add("kafka");
        }
        for (String name : other) {
            ManagedProcess p = ManagedProcess.adopt(run.resolve(name + ".pid"));
            if (p != null) {
                throw new IllegalStateException(".run/" + name + ".pid (pid " + p.pid() + ") is the Kafka of an"
                        + " earlier ./relay up with " + (brokers == 1 ? "RELAY_KAFKA_BROKERS=3" : "one broker")
                        + ": run ./relay down first");
            }
        }
    }

    /** Starts (or finds running) the 3-node cluster, one line per node, then creates the replicated topics. */
    private void startCluster() {
        long started = System.nanoTime();
        List<Component> kafkaNodes = components.stream().filter(c -> c.kind() == Kind.KAFKA).toList();
        List<String> how = kafkaNodes.stream().map(this::describe).toList();
        KafkaCluster cluster = KafkaCluster.local(run, CLUSTER_BROKER_PORTS, CLUSTER_CONTROLLER_PORTS,
                i -> pidFile(kafkaNodes.get(i)), i -> logFile(kafkaNodes.get(i)));
        cluster.ensureStarted();
        cluster.createRelayTopics();
        for (int i = 0; i < kafkaNodes.size(); i++) {
            System.out.printf("%-11s %s%s%n", kafkaNodes.get(i).name(), how.get(i), i < kafkaNodes.size() - 1 ? ""
                    : String.format(", topics ready (replication factor 3, min.insync.replicas 2) (%.1f s)",
                            (System.nanoTime() - started) / 1e9));
        }
    }

    /** Starts (or finds running) one component and waits until it is ready; says which. */
    private String start(Component c) {
        Path pidFile = pidFile(c);
        Path logFile = logFile(c);
        switch (c.kind()) {
            case KAFKA: {
                KafkaBroker broker = KafkaBroker.local(run.resolve("kafka"), c.port(), c.otherPorts().get(0), pidFile,
                        logFile);
                String how = describe(c);
                broker.ensureStarted();
                KafkaBroker.createRelayTopics(broker.bootstrapServers());
                return how + ", topics ready";
            }
            case KEYCLOAK: {
                KeycloakServer keycloak = KeycloakServer.local(run.resolve("keycloak"), c.port(), pidFile, logFile);
                String how = describe(c);
                keycloak.ensureStarted();
                return how + ", realm " + keycloak.realmUrl();
            }
            case CAPTURE_MX: {
                ManagedProcess running = ManagedProcess.adopt(pidFile, logFile);
                if (running != null || ManagedProcess.isListening(HOST, c.port())) {
                    return describe(running, c);
                }
                List<String> cmd = List.of(ManagedProcess.javaExecutable(), "-Xmx128m", "-cp", absoluteClassPath(),
                        CaptureMx.class.getName(),
                        "--port", Integer.toString(c.port()), "--dir", root.relativize(run.resolve("mail")).toString());
                ManagedProcess p = ManagedProcess.start(c.name(), cmd, root, Map.of(), logFile, pidFile, true);
                ManagedProcess.awaitListening(HOST, c.port(), Duration.ofSeconds(30), p);
                return "started, pid " + p.pid();
            }
            case QUARKUS: {
                Map<String, String> env = serviceEnv(c, brokers);
                int httpPort = Integer.parseInt(env.get("QUARKUS_HTTP_PORT"));
                String health = "http://" + HOST + ":" + httpPort + "/q/health/ready";
                ManagedProcess running = ManagedProcess.adopt(pidFile, logFile);
                if (running != null || ManagedProcess.isListening(HOST, httpPort)) {
                    ManagedProcess.await(c.name() + " ready at " + health, SERVICE_TIMEOUT, running,
                            () -> Support.httpStatus(health) == 200);
                    return describe(running, c);
                }
                Path jar = root.resolve(c.module()).resolve("target").resolve("quarkus-app").resolve("quarkus-run.jar");
                if (!Files.isRegularFile(jar)) {
                    throw new IllegalStateException(root.relativize(jar) + " is missing: build first (./relay build)");
                }
                List<String> cmd = ManagedProcess.serviceCommand(jar);
                ManagedProcess p = ManagedProcess.start(c.name(), cmd, root, env, logFile, pidFile, true);
                ManagedProcess.await(c.name() + " ready at " + health, SERVICE_TIMEOUT, p,
                        () -> Support.httpStatus(health) == 200);
                return "started, pid " + p.pid();
            }
            default:
                throw new IllegalStateException(c.kind().toString());
        }
    }

    private String describe(Component c) {
        ManagedProcess running = ManagedProcess.adopt(pidFile(c), logFile(c));
        if (running == null && !ManagedProcess.isListening(HOST, c.port())) {
            return "started";
        }
        return describe(running, c);
    }

    private static String describe(ManagedProcess running, Component c) {
        return running != null ? "already running, pid " + running.pid()
                : "port " + c.port() + " already in use (not started by ./relay up), using it";
    }

    /** This JVM's class path with absolute entries, for a child JVM that runs in another directory. */
    static String absoluteClassPath() {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!entry.isEmpty()) {
                entries.add(Path.of(entry).toAbsolutePath().normalize().toString());
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    /** The defaults of a service, for each variable that the environment does not set. */
    static Map<String, String> serviceEnv(Component c) {
        return serviceEnv(c, 1);
    }

    /** As {@link #serviceEnv(Component)}; with the cluster, every broker is a bootstrap server (any may be down). */
    static Map<String, String> serviceEnv(Component c, int brokers) {
        Map<String, String> env = new LinkedHashMap<>();
        Map<String, String> defaults = new LinkedHashMap<>(SERVICE_ENV);
        if (brokers > 1) {
            defaults.put("KAFKA_BOOTSTRAP_SERVERS", String.join(",", CLUSTER_BROKER_PORTS.stream()
                    .map(p -> HOST + ":" + p).toList()));
        }
        defaults.putAll(c.env());
        defaults.forEach((k, v) -> env.put(k, System.getenv().getOrDefault(k, v)));
        return env;
    }

    private void printEndpoints() {
        String kafka = brokers == 1 ? "127.0.0.1:9092" : "127.0.0.1:9092 (bootstrap), 9093, 9094: 3 brokers,"
                + " replication factor 3, min.insync.replicas 2";
        String nl = System.lineSeparator();
        System.out.println(nl
                + "Relay is up." + nl
                + "  SMTP relay/MX    127.0.0.1:2525   (STARTTLS; AUTH only after TLS)" + nl
                + "  SMTP submission  127.0.0.1:2587   (STARTTLS, AUTH required)" + nl
                + "  SMTPS            127.0.0.1:2465   (implicit TLS, AUTH required)" + nl
                + "  HTTP             ingress http://127.0.0.1:8081  policy http://127.0.0.1:8082"
                + "  delivery http://127.0.0.1:8083  (/q/health, /q/metrics)" + nl
                + "  Keycloak         http://127.0.0.1:8180  (realm relay; admin console: admin / admin)" + nl
                + "  Kafka            " + kafka + nl
                + "  Delivered mail   .run/mail/   (the capture MX on 127.0.0.1:2526 receives everything)" + nl
                + "  Logs             .run/logs/   (./relay logs [component])" + nl
                + nl
                + "Demo credentials: user demo / password demo-password (sends as demo@example.test)" + nl
                + "Demo application: client demo-app / secret demo-app-secret (sends as *@apps.example.test)" + nl
                + "Demo team: organisation demo-team (verified domain team.example.test), member team-member /"
                + " password team-member-password (sends as any address @team.example.test)" + nl
                + "Try:" + nl
                + "  swaks --server 127.0.0.1:2587 --tls --auth PLAIN --auth-user demo --auth-password demo-password"
                + " --from demo@example.test --to someone@example.net --header 'Subject: hello from Relay'" + nl
                + "  swaks --server 127.0.0.1:2587 --tls --auth PLAIN --auth-user demo-app --auth-password demo-app-secret"
                + " --from app@apps.example.test --to someone@example.net --header 'Subject: hello from an application'"
                + nl
                + "Stop everything with ./relay down");
    }

    // ---------------------------------------------------------------------------------------------------------------

    int down() {
        List<Component> reversed = new ArrayList<>(components);
        java.util.Collections.reverse(reversed);
        List<Component> kafkaNodes = new ArrayList<>();
        for (Component c : reversed) {
            if (c.kind() == Kind.KAFKA && brokers > 1) {
                kafkaNodes.add(c);
                continue;
            }
            ManagedProcess p = ManagedProcess.adopt(pidFile(c), logFile(c));
            if (p == null) {
                System.out.printf("%-11s not running%n", c.name());
                continue;
            }
            long started = System.nanoTime();
            p.stop(STOP_GRACE);
            System.out.printf("%-11s stopped (pid %d, %.1f s)%n", c.name(), p.pid(),
                    (System.nanoTime() - started) / 1e9);
        }
        stopTogether(kafkaNodes);
        List<String> busy = new ArrayList<>();
        for (Component c : reversed) {
            List<Integer> ports = new ArrayList<>();
            ports.add(c.kind() == Kind.QUARKUS ? Integer.parseInt(serviceEnv(c, brokers).get("QUARKUS_HTTP_PORT"))
                    : c.port());
            ports.addAll(c.otherPorts());
            for (int port : ports) {
                try {
                    ManagedProcess.awaitFree(HOST, port, Duration.ofSeconds(5));
                } catch (IllegalStateException e) {
                    busy.add(port + " (" + c.name() + ")");
                }
            }
        }
        if (!busy.isEmpty()) {
            System.out.println("still in use, by processes that ./relay up did not start: " + String.join(", ", busy));
            return 1;
        }
        System.out.println("all stopped; ports free");
        return 0;
    }

    /**
     * The cluster's nodes are stopped at the same time: one after the other, the last would wait out its grace
     * period for a controlled shutdown that a quorum without majority cannot grant.
     */
    private void stopTogether(List<Component> nodes) {
        Map<Component, java.util.concurrent.CompletableFuture<String>> stops = new LinkedHashMap<>();
        for (Component c : nodes) {
            ManagedProcess p = ManagedProcess.adopt(pidFile(c), logFile(c));
            stops.put(c, p == null ? java.util.concurrent.CompletableFuture.completedFuture("not running")
                    : java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        long started = System.nanoTime();
                        p.stop(STOP_GRACE);
                        return String.format("stopped (pid %d, %.1f s)", p.pid(), (System.nanoTime() - started) / 1e9);
                    }));
        }
        stops.forEach((c, stop) -> System.out.printf("%-11s %s%n", c.name(), stop.join()));
    }

    int status() {
        System.out.printf("%-11s %-8s %-8s %-6s %s%n", "COMPONENT", "PID", "STATE", "PORT", "READY");
        for (Component c : components) {
            ManagedProcess p = ManagedProcess.adopt(pidFile(c), logFile(c));
            int port = c.kind() == Kind.QUARKUS ? Integer.parseInt(serviceEnv(c, brokers).get("QUARKUS_HTTP_PORT"))
                    : c.port();
            boolean ready = ready(c, port);
            String state = p != null ? "running" : ready ? "foreign" : "stopped";
            System.out.printf("%-11s %-8s %-8s %-6d %s%n", c.name(), p == null ? "-" : Long.toString(p.pid()), state,
                    port, ready ? "yes" : "no");
        }
        return 0;
    }

    private static boolean ready(Component c, int port) {
        if (!ManagedProcess.isListening(HOST, port)) {
            return false;
        }
        switch (c.kind()) {
            case KAFKA:
                try (Admin admin = KafkaBroker.admin(HOST + ":" + port)) {
                    return !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty();
                } catch (Exception e) {
                    return false;
                }
            case KEYCLOAK:
                return Support.httpStatus("http://" + HOST + ":" + port + "/realms/" + KeycloakServer.REALM
                        + "/.well-known/openid-configuration") == 200;
            case QUARKUS:
                return Support.httpStatus("http://" + HOST + ":" + port + "/q/health/ready") == 200;
            default:
                return true;
        }
    }

    /** Stops the build-wide test Kafka and Keycloak (pid files in {@code .cache/test-run/}). */
    static int testInfraDown() {
        Path runDir = KafkaBroker.testRunDir();
        int kafkaPort = Integer.getInteger("relay.test.kafka.port", 19092);
        int keycloakPort = Integer.getInteger("relay.test.keycloak.port", 18180);
        int exit = 0;
        for (Object[] server : new Object[][] {
                {"test keycloak", runDir.resolve("keycloak.pid"), keycloakPort},
                {"test kafka", runDir.resolve("kafka.pid"), kafkaPort}}) {
            String name = (String) server[0];
            Path pidFile = (Path) server[1];
            int port = (Integer) server[2];
            ManagedProcess p = ManagedProcess.adopt(pidFile);
            if (p != null) {
                p.stop(STOP_GRACE);
                System.out.printf("%-13s stopped (pid %d)%n", name, p.pid());
            }
            ManagedProcess.deleteQuietly(pidFile);
            try {
                ManagedProcess.awaitFree(HOST, port, Duration.ofSeconds(10));
            } catch (IllegalStateException e) {
                System.out.printf("%-13s port %d is still in use by a process without pid file%n", name, port);
                exit = 1;
            }
        }
        return exit;
    }

    private Path pidFile(Component c) {
        return run.resolve(c.name() + ".pid");
    }

    private Path logFile(Component c) {
        return logs.resolve(c.name() + ".log");
    }
}
