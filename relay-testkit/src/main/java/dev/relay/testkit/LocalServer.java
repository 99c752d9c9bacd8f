package dev.relay.testkit;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@link KafkaBroker} and {@link KeycloakServer} share: a server process listening on a loopback port and
 * tracked by a pid file, which may have been started by this JVM, by an earlier one, or by {@code ./relay up}.
 */
abstract class LocalServer {

    protected final int port;
    protected final Path pidFile;
    protected final Path logFile;
    protected final boolean detached;
    private final Duration stopGrace;
    protected volatile ManagedProcess process;

    LocalServer(int port, Path pidFile, Path logFile, boolean detached, Duration stopGrace) {
        this.port = port;
        this.pidFile = pidFile.toAbsolutePath().normalize();
        this.logFile = logFile.toAbsolutePath().normalize();
        this.detached = detached;
        this.stopGrace = stopGrace;
    }

    public int port() {
        return port;
    }

    public Path logFile() {
        return logFile;
    }

    /** The server process, or {@code null} if it was found listening without a pid file. */
    public ManagedProcess process() {
        return process;
    }

    public boolean isRunning() {
        ManagedProcess p = process;
        if (p != null) {
            return p.isAlive();
        }
        return ManagedProcess.isListening("127.0.0.1", port);
    }

    /** Graceful stop (SIGTERM), SIGKILL after the grace period; waits until the port is free. */
    public void stop() {
        ManagedProcess p = process;
        if (p != null) {
            p.stop(stopGrace);
        } else {
            ManagedProcess.stopByPidFile(pidFile, stopGrace);
        }
        ManagedProcess.awaitFree("127.0.0.1", port, Duration.ofSeconds(10));
    }

    /** SIGKILL of the whole process tree, as a crash would. */
    public void kill() {
        ManagedProcess p = process;
        if (p == null) {
            p = ManagedProcess.adopt(pidFile, logFile);
        }
        if (p != null) {
            p.kill();
        }
    }

    /** For servers a caller owns: killed when this JVM exits if the caller did not stop them. */
    void killOnExit(String name) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            ManagedProcess p = process;
            if (p != null && p.isAlive()) {
                p.kill();
            }
        }, name + "-cleanup"));
    }
}
