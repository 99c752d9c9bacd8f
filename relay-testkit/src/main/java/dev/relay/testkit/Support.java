package dev.relay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/** Small helpers shared by the launchers: HTTP probes and a cross-process file lock. */
final class Support {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    private static final ConcurrentHashMap<Path, Object> MONITORS = new ConcurrentHashMap<>();

    private Support() {
    }

    static HttpClient http() {
        return HTTP;
    }

    /** The HTTP status of a GET, or -1 if there was no answer. */
    static int httpStatus(String url) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build();
            return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * Runs {@code action} holding an exclusive lock on {@code lockFile}, so that two JVMs (two Maven modules, or a test
     * run and {@code ./relay up}) do not start the same server at the same time.
     */
    static <T> T withFileLock(Path lockFile, Callable<T> action) {
        // a JVM may hold a file's lock only once: threads queue on a monitor per file first
        Object monitor = MONITORS.computeIfAbsent(lockFile.toAbsolutePath().normalize(), k -> new Object());
        synchronized (monitor) {
            return locked(lockFile, action);
        }
    }

    private static <T> T locked(Path lockFile, Callable<T> action) {
        try {
            Files.createDirectories(lockFile.toAbsolutePath().getParent());
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock lock = ch.lock()) {
                return action.call();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
