package dev.relay.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * An OS process started for tests or for the local launcher. Its stdout and stderr go to a log file (never to the test
 * output) and its PID to a pid file, so that a later JVM can find and stop it ({@link #adopt}, {@link #stopByPidFile}).
 * A process started here keeps running when the JVM that started it exits, unless the caller stops it.
 */
public final class ManagedProcess {

    private static final Path SETSID = Path.of("/usr/bin/setsid");

    private final String name;
    private final ProcessHandle handle;
    private final Process process; // null when adopted from a pid file
    private final Path logFile;
    private final Path pidFile;

    private ManagedProcess(String name, ProcessHandle handle, Process process, Path logFile, Path pidFile) {
        this.name = name;
        this.handle = handle;
        this.process = process;
        this.logFile = logFile;
        this.pidFile = pidFile;
    }

    /** Starts a process in the current process group: it gets the same Ctrl-C as the build that started it. */
    public static ManagedProcess start(String name, List<String> command, Path workDir, Map<String, String> env,
            Path logFile, Path pidFile) {
        return start(name, command, workDir, env, logFile, pidFile, false);
    }

    /**
     * Starts {@code command} in {@code workDir}.
     *
     * @param env      variables added to (value {@code null}: removed from) this JVM's environment
     * @param logFile  receives stdout and stderr (appended, after a header line)
     * @param pidFile  receives the PID; may be {@code null}
     * @param detached run it in a session of its own ({@code setsid}), so that neither a Ctrl-C in the terminal nor
     *                 the terminal closing reaches it: for brokers that outlive the build, and for {@code ./relay up}
     */
    public static ManagedProcess start(String name, List<String> command, Path workDir, Map<String, String> env,
            Path logFile, Path pidFile, boolean detached) {
        List<String> cmd = new ArrayList<>();
        if (detached && Files.isExecutable(SETSID)) {
            cmd.add(SETSID.toString()); // not a group leader here, so setsid execs in place: the PID stays ours
        }
        cmd.addAll(command);
        try {
            Files.createDirectories(workDir);
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            Files.writeString(logFile, "==== " + Instant.now() + " starting " + name + ": " + String.join(" ", command)
                    + System.lineSeparator(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            env.forEach((k, v) -> {
                if (v == null) {
                    pb.environment().remove(k);
                } else {
                    pb.environment().put(k, v);
                }
            });
            Process process = pb.start();
            ManagedProcess p = new ManagedProcess(name, process.toHandle(), process, logFile, pidFile);
            if (pidFile != null) {
                writeAtomically(pidFile, process.pid() + "\n");
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + String.join(" ", command), e);
        }
    }

    /**
     * The live process whose PID is in {@code pidFile}, or {@code null} (and the stale pid file deleted) if there is
     * none. A PID that was reused by a process started after the pid file was written is not adopted.
     */
    public static ManagedProcess adopt(Path pidFile) {
        return adopt(pidFile, null);
    }

    /** As {@link #adopt(Path)}, remembering {@code logFile} for {@link #logTail}. */
    public static ManagedProcess adopt(Path pidFile, Path logFile) {
        if (!Files.isRegularFile(pidFile)) {
            return null;
        }
        try {
            String text = Files.readString(pidFile, StandardCharsets.UTF_8).trim();
            long pid = Long.parseLong(text.isEmpty() ? "-1" : text.split("\\s+")[0]);
            Instant written = Files.getLastModifiedTime(pidFile).toInstant();
            Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
            boolean reused = handle.flatMap(h -> h.info().startInstant())
                    .map(started -> started.isAfter(written.plusSeconds(5))).orElse(false);
            if (handle.isEmpty() || reused) {
                Files.deleteIfExists(pidFile);
                return null;
            }
            String name = pidFile.getFileName().toString().replaceFirst("\\.pid$", "");
            return new ManagedProcess(name, handle.get(), null, logFile, pidFile);
        } catch (NumberFormatException e) {
            deleteQuietly(pidFile);
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops (TERM, then KILL after {@code grace}) the process of a pid file, if it still runs; removes the file. */
    public static void stopByPidFile(Path pidFile, Duration grace) {
        ManagedProcess p = adopt(pidFile);
        if (p != null) {
            p.stop(grace);
        }
        deleteQuietly(pidFile);
    }

    public String name() {
        return name;
    }

    public long pid() {
        return handle.pid();
    }

    public boolean isAlive() {
        return handle.isAlive();
    }

    /**
     * Waits until the process exits and returns its exit code (-1 for an adopted process, whose code is unknown).
     *
     * @throws IllegalStateException if it still runs after {@code timeout}
     */
    public int waitFor(Duration timeout) {
        try {
            if (process != null) {
                if (process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                    return process.exitValue();
                }
            } else {
                awaitExit(handle, timeout.toNanos());
                if (!handle.isAlive()) {
                    return -1;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IllegalStateException(name + " still runs after " + timeout.toSeconds() + " s");
    }

    public Path logFile() {
        return logFile;
    }

    public Path pidFile() {
        return pidFile;
    }

    /**
     * SIGTERM, then SIGKILL for whatever (the process or one of its descendants, e.g. the JVM under a start script)
     * is still alive after {@code grace}. Removes the pid file.
     */
    public void stop(Duration grace) {
        List<ProcessHandle> tree = tree();
        handle.destroy();
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle h : tree) {
            awaitExit(h, Math.max(0, deadline - System.nanoTime()));
        }
        for (ProcessHandle h : tree) {
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : tree) {
            awaitExit(h, TimeUnit.SECONDS.toNanos(10));
        }
        if (pidFile != null) {
            deleteQuietly(pidFile);
        }
    }

    /** SIGKILL for the process and its descendants, as a crash would; the pid file is left behind (stale). */
    public void kill() {
        List<ProcessHandle> tree = tree();
        for (int i = tree.size() - 1; i >= 0; i--) { // descendants first, so none is left orphaned
            tree.get(i).destroyForcibly();
        }
        for (ProcessHandle h : tree) {
            awaitExit(h, TimeUnit.SECONDS.toNanos(10));
        }
    }

    /** The process, then its descendants. */
    private List<ProcessHandle> tree() {
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(handle);
        handle.descendants().forEach(tree::add);
        return tree;
    }

    private static void awaitExit(ProcessHandle h, long nanos) {
        // polled: ProcessHandle.onExit() of a process that is not our child reacts only after seconds
        long deadline = System.nanoTime() + nanos;
        try {
            while (h.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last {@code lines} lines of the log file ("" if there is none). */
    public String logTail(int lines) {
        return logTail(logFile, lines);
    }

    public static String logTail(Path logFile, int lines) {
        if (logFile == null || !Files.isRegularFile(logFile)) {
            return "";
        }
        try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.READ)) {
            long size = ch.size();
            long from = Math.max(0, size - 64 * 1024);
            ch.position(from);
            byte[] bytes = new byte[(int) (size - from)];
            try (InputStream in = java.nio.channels.Channels.newInputStream(ch)) {
                int n = in.readNBytes(bytes, 0, bytes.length);
                String text = new String(bytes, 0, n, StandardCharsets.UTF_8);
                String[] all = text.split("\r?\n");
                int start = Math.max(0, all.length - lines);
                return String.join(System.lineSeparator(), java.util.Arrays.asList(all).subList(start, all.length));
            }
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    @Override
    public String toString() {
        return name + "(pid " + pid() + (isAlive() ? ", running" : ", exited") + ")";
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** Whether something accepts TCP connections on host:port. */
    public static boolean isListening(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Waits until host:port accepts connections; fails at once, with the tail of its log, if {@code p} died. */
    public static void awaitListening(String host, int port, Duration timeout, ManagedProcess p) {
        await(host + ":" + port + " listening", timeout, p, () -> isListening(host, port));
    }

    /** Waits until nothing listens on host:port any more. */
    public static void awaitFree(String host, int port, Duration timeout) {
        await(host + ":" + port + " free", timeout, null, () -> !isListening(host, port));
    }

    /**
     * Polls {@code condition} until it holds; throws if {@code timeout} passes or if {@code p} (may be {@code null})
     * exits first, with the tail of p's log in the message.
     */
    public static void await(String what, Duration timeout, ManagedProcess p, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return;
            }
            if (p != null && !p.isAlive()) {
                throw new IllegalStateException(p.name + " exited before " + what + "; log "
                        + p.logFile + " ends with:" + System.lineSeparator() + p.logTail(40));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what
                        + (p == null ? "" : "; log " + p.logFile + " ends with:" + System.lineSeparator()
                        + p.logTail(40)));
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + what, e);
            }
        }
    }

    /**
     * JVM options every Relay service runs with (here, in {@code ./relay up}, the benchmark and the container
     * images): the C1 compiler only. ADR 0007: on small CPU budgets C2 kept recompiling long after warm-up and
     * cost more CPU than its faster code saved.
     */
    public static final List<String> SERVICE_JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1");

    /** The command that runs a packaged Relay service: {@code java <service options> <extra> -jar <jar>}. */
    public static List<String> serviceCommand(Path jar, String... extraJvmOptions) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable());
        cmd.addAll(SERVICE_JVM_OPTIONS);
        cmd.addAll(List.of(extraJvmOptions));
        cmd.add("-jar");
        cmd.add(jar.toString());
        return cmd;
    }

    /** The java executable of this JVM, for child JVMs. */
    static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static void writeAtomically(Path file, String content) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // nothing to do
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(dir)) { // Files.walk does not follow symbolic links
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.delete(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
