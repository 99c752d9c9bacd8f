package dev.relay.e2e;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs a short-lived command-line program that we did not write (swaks, python3) and collects what it printed.
 * A missing program is a test failure that says how to install it, never a skip: {@code ./relay test} installs them.
 */
final class ExternalTool {

    private ExternalTool() {
    }

    /** The outcome of one run: exit code and stdout+stderr interleaved. */
    record Result(List<String> command, int exitCode, String output) {

        /** For failure messages: the command line and everything it printed. */
        String describe() {
            return "$ " + String.join(" ", command) + "\n(exit " + exitCode + ")\n" + output;
        }
    }

    /**
     * Fails the test unless {@code program} can be started ({@code program versionArg} exits 0); returns what it
     * printed.
     */
    static String require(String program, String versionArg, String installHint) {
        Result result;
        try {
            result = run(Duration.ofSeconds(20), program, versionArg);
        } catch (UncheckedIOException e) {
            return fail(program + " is not installed (" + e.getCause().getMessage() + "). This test needs it: "
                    + installHint);
        }
        if (result.exitCode() != 0) {
            return fail(program + " " + versionArg + " failed. This test needs it: " + installHint + "\n"
                    + result.describe());
        }
        return result.output();
    }

    /** Runs {@code command} with stdin from /dev/null; kills it after {@code timeout}. */
    static Result run(Duration timeout, String... command) {
        List<String> cmd = List.of(command);
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(cmd))
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command[0], e);
        }
        StringBuilder output = new StringBuilder();
        Thread reader = new Thread(() -> {
            try {
                output.append(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                output.append("<output unreadable: ").append(e.getMessage()).append('>');
            }
        }, command[0] + "-output");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                reader.join(2_000);
                return fail("timed out after " + timeout.toSeconds() + " s: " + String.join(" ", cmd) + "\n"
                        + output);
            }
            reader.join(5_000);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command[0], e);
        }
        synchronized (output) {
            return new Result(cmd, process.exitValue(), output.toString());
        }
    }
}
