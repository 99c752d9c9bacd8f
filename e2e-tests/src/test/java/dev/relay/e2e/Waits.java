package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Polling and counting helpers shared by the whole-system tests that reconcile sent against received mail. */
final class Waits {

    /** The queue id in the {@code Received:} header the ingress adds ("... with ESMTPS id 0123…"). */
    static final Pattern RECEIVED_ID = Pattern.compile("with [A-Z]+ id ([0-9A-Z]{20})");

    private Waits() {
    }

    static void awaitOrFail(String what, Duration timeout, BooleanSupplier condition) {
        if (!awaitQuietly(timeout, condition)) {
            throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
        }
    }

    /** Polls every 250 ms; returns whether the condition held before the timeout. */
    static boolean awaitQuietly(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            sleep(Duration.ofMillis(250));
        }
        return condition.getAsBoolean();
    }

    static void sleep(Duration d) {
        if (d.isNegative() || d.isZero()) {
            return;
        }
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static long seconds(long sinceNanos) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - sinceNanos);
    }

    /** Queue id (from Relay's Received: header near the top) → how many copies the capture MX received. */
    static Map<String, Integer> capturedIds(CaptureMx capture) {
        Map<String, Integer> ids = new HashMap<>();
        for (CapturedMessage m : capture.messages()) {
            Matcher id = RECEIVED_ID.matcher(new String(m.data(), 0, Math.min(m.data().length, 2048),
                    StandardCharsets.US_ASCII));
            ids.merge(id.find() ? id.group(1) : "?", 1, Integer::sum);
        }
        return ids;
    }

    /**
     * Original queue id → DSNs about it in the sender's mailbox. A DSN carries the original's header section,
     * where the ingress's {@code Received:} header names the queue id.
     */
    static Map<String, Integer> bounced(CaptureMx mailbox) {
        Map<String, Integer> ids = new HashMap<>();
        for (CapturedMessage m : mailbox.messages()) {
            String dsn = new String(m.data(), StandardCharsets.UTF_8);
            if (!dsn.contains("report-type=delivery-status") || !dsn.contains("Action: failed")) {
                continue;
            }
            Matcher id = RECEIVED_ID.matcher(dsn);
            if (id.find()) {
                ids.merge(id.group(1), 1, Integer::sum);
            }
        }
        return ids;
    }
}
