package dev.relay.e2e;

import dev.relay.testkit.ManagedProcess;
import dev.relay.testkit.RelayRoot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One Relay service running as its own process from its packaged {@code quarkus-run.jar}. */
final class RelayService implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final String module;
    private final Map<String, String> env;
    private final int httpPort;
    private ManagedProcess process;

    private RelayService(String module, Map<String, String> env, int httpPort) {
        this.module = module;
        this.env = env;
        this.httpPort = httpPort;
    }

    /** Starts {@code module} with {@code env} (plus a free HTTP port) and waits until it reports ready. */
    static RelayService start(String module, Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        int http = freePort();
        all.put("QUARKUS_HTTP_PORT", String.valueOf(http));
        RelayService service = new RelayService(module, all, http);
        service.start();
        return service;
    }

    void start() {
        Path root = RelayRoot.get();
        Path jar = root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: run the whole build (./relay test), not this module alone");
        }
        Path work = root.resolve("e2e-tests/target/run/" + module);
        process = ManagedProcess.start(module, ManagedProcess.serviceCommand(jar, "-Xmx256m"), work, env,
                work.resolve(module + ".log"), null);
        ManagedProcess.await(module + " ready", Duration.ofSeconds(90), process,
                () -> status("/q/health/ready") == 200);
    }

    int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    String get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    String logTail() {
        return process == null ? "" : process.logTail(60);
    }

    @Override
    public void close() {
        if (process != null) {
            process.stop(Duration.ofSeconds(20));
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
