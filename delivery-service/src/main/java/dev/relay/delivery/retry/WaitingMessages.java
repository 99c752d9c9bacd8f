package dev.relay.delivery.retry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The messages this instance put on a retry tier and has not seen come back yet, for the gauge "age of the
 * oldest waiting message". A record taken from a tier by another instance is never seen here again: entries
 * are dropped once they are overdue by more than {@code slackMillis}. Bounded: beyond {@code max} entries new
 * ones are not tracked (the gauge then under-reports rather than the heap growing).
 */
public final class WaitingMessages {

    private record Waiting(long receivedAt, long dueAt) {
    }

    private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();
    private final long slackMillis;
    private final int max;

    public WaitingMessages(long slackMillis, int max) {
        this.slackMillis = slackMillis;
        this.max = max;
    }

    /** A record with this key now waits on a tier until {@code dueAt}. */
    public void deferred(String key, long receivedAt, long dueAt) {
        if (key != null && receivedAt > 0 && (waiting.size() < max || waiting.containsKey(key))) {
            waiting.put(key, new Waiting(receivedAt, dueAt));
        }
    }

    /** The record with this key was taken from its tier (it may come back with a later due time). */
    public void taken(String key) {
        if (key != null) {
            waiting.remove(key);
        }
    }

    /** Seconds since the receipt of the oldest waiting message, 0 when none waits. */
    public double oldestAgeSeconds(long now) {
        waiting.values().removeIf(w -> w.dueAt() + slackMillis < now);
        long oldest = waiting.values().stream().mapToLong(Waiting::receivedAt).min().orElse(now);
        return Math.max(0, now - oldest) / 1000.0;
    }

    public int size() {
        return waiting.size();
    }
}
