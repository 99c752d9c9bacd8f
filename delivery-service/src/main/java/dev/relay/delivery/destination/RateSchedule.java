package dev.relay.delivery.destination;

import java.util.HashMap;
import java.util.Map;

/**
 * Messages per minute per destination as an even schedule: every message reserves the next free start time, one
 * interval (60 s / rate) after the previous one. A message whose start would be more than a minute away is not
 * admitted (deferred): waiting longer than that is the retry schedule's job. Pure: time in milliseconds.
 */
final class RateSchedule {

    static final long MAX_WAIT_MILLIS = 60_000;

    private final long interval;
    private final Map<Destination, Long> next = new HashMap<>();

    /** @param perMinute messages per minute; 0 = unlimited */
    RateSchedule(int perMinute) {
        this.interval = perMinute <= 0 ? 0 : Math.max(1, 60_000L / perMinute);
    }

    /** Milliseconds to wait before starting, or -1 when the message must not wait that long (defer it). */
    synchronized long reserve(Destination destination, long now) {
        if (interval == 0) {
            return 0;
        }
        long start = Math.max(now, next.getOrDefault(destination, now));
        if (start - now > MAX_WAIT_MILLIS) {
            return -1;
        }
        next.put(destination, start + interval);
        next.values().removeIf(t -> t < now); // destinations idle for a whole interval start afresh
        return start - now;
    }
}
