package dev.relay.e2e;

import dev.relay.testkit.ManagedProcess;
import dev.relay.testkit.RelayRoot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One of several instances of a Relay service, each its own process from the packaged {@code quarkus-run.jar}, with
 * a work directory and log of its own (so that two instances of one module never share a log file or a generated
 * certificate), a fixed HTTP port (so that a replacement can take over the ports of a killed instance), and
 * {@link #kill()} for a crash ({@code kill -9}). Unlike {@link RelayService#start}, {@link #launch} does not wait:
 * start several, then {@link #awaitReady} each, so that they boot in parallel.
 */
final class RelayInstance implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final int httpPort;
    private final ManagedProcess process;

    private RelayInstance(String name, int httpPort, ManagedProcess process) {
        this.name = name;
        this.httpPort = httpPort;
        this.process = process;
    }

    /**
     * Starts {@code module} as instance {@code name} with {@code env} plus {@code QUARKUS_HTTP_PORT=httpPort}; its
     * work directory and log are {@code e2e-tests/target/run/<runDir>/<name>/}. Returns at once.
     */
    static RelayInstance launch(String module, String name, String runDir, Map<String, String> env, int httpPort) {
        return launch(module, name, runDir, env, httpPort, List.of());
    }

    /**
     * As {@link #launch(String, String, String, Map, int)} with extra JVM options after the default {@code -Xmx256m}
     * (a later {@code -Xmx} wins; system properties such as {@code -Drelay.delivery.routes."a.example"=host:port}
     * set map keys that environment variables cannot spell).
     */
    static RelayInstance launch(String module, String name, String runDir, Map<String, String> env, int httpPort,
                                List<String> jvmOptions) {
        Path root = RelayRoot.get();
        Path jar = root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: package the services first"
                    + " (mvn -B -DskipTests package) or run the whole build (./relay test)");
        }
        Map<String, String> all = new HashMap<>(env);
        all.put("QUARKUS_HTTP_PORT", String.valueOf(httpPort));
        Path work = root.resolve("e2e-tests/target/run").resolve(runDir).resolve(name);
        ManagedProcess process = ManagedProcess.start(name, ManagedProcess.serviceCommand(jar,
                        Stream.concat(Stream.of("-Xmx256m"), jvmOptions.stream()).toArray(String[]::new)), work,
                all, work.resolve(name + ".log"), null);
        return new RelayInstance(name, httpPort, process);
    }

    /** Waits until {@code /q/health/ready} answers 200; fails at once with the log's tail if the process died. */
    RelayInstance awaitReady(Duration timeout) {
        ManagedProcess.await(name + " ready", timeout, process, () -> status("/q/health/ready") == 200);
        return this;
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    int httpPort() {
        return httpPort;
    }

    int status(String path) {
        try {
            return HTTP.send(request(path), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    String get(String path) {
        try {
            return HTTP.send(request(path), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": GET " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private HttpRequest request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(5)).build();
    }

    /**
     * The sum of the Prometheus samples of {@code metric} (e.g. {@code relay_delivery_attempts_total}) in
     * {@code /q/metrics} whose line contains {@code labelFilter} (e.g. {@code result="delivered"}; "" for all).
     */
    double metric(String metric, String labelFilter) {
        return metric(get("/q/metrics"), metric, labelFilter);
    }

    static double metric(String prometheusText, String metric, String labelFilter) {
        double sum = 0;
        for (String line : prometheusText.split("\n")) {
            if (line.startsWith(metric) && line.length() > metric.length()
                    && (line.charAt(metric.length()) == '{' || line.charAt(metric.length()) == ' ')
                    && line.contains(labelFilter)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
            }
        }
        return sum;
    }

    Path logFile() {
        return process.logFile();
    }

    /** The whole log (it survives a kill). */
    String log() {
        try {
            return Files.readString(process.logFile(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String logTail() {
        return process.logTail(60);
    }

    /** SIGKILL, as a crash or an OOM kill would: no shutdown hook, no offset commit, no goodbye to the group. */
    void kill() {
        process.kill();
    }

    /** Graceful stop (SIGTERM, SIGKILL after 20 s) if it still runs. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.stop(Duration.ofSeconds(20));
        }
    }

    @Override
    public String toString() {
        return name + "(pid " + process.pid() + ", http " + httpPort + (process.isAlive() ? "" : ", exited") + ")";
    }
}
