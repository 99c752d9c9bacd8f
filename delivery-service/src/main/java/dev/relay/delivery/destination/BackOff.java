package dev.relay.delivery.destination;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Destinations that asked us to slow down. A throttling reply ({@link Throttling}) starts a back-off period; while
 * it lasts, deliveries to that destination are not attempted at all. Each further throttling reply after a
 * period ends doubles the next one (initial, 2×, 4×, … up to the maximum); a delivery that goes through without
 * throttling forgets the history. Pure: the time is passed in, in milliseconds.
 */
final class BackOff {

    private record Entry(long until, long period) {
    }

    private final long initial;
    private final long max;
    private final Map<Destination, Entry> entries = new HashMap<>();

    BackOff(Duration initial, Duration max) {
        this.initial = initial.toMillis();
        this.max = max.toMillis();
    }

    /** Starts (or lengthens) the back-off of a destination; returns the period now in force. */
    synchronized Duration throttled(Destination destination, long now) {
        Entry previous = entries.get(destination);
        long period;
        if (previous == null) {
            period = initial;
        } else if (now < previous.until()) {
            period = previous.period(); // several connections saw the same throttling: one step, not many
        } else {
            period = Math.min(max, Math.max(initial, previous.period() * 2));
        }
        entries.put(destination, new Entry(Math.max(now + period, previous == null ? 0 : previous.until()),
                period));
        return Duration.ofMillis(period);
    }

    /** Milliseconds until the destination may be tried again; 0 when it may be tried now. */
    synchronized long remaining(Destination destination, long now) {
        Entry entry = entries.get(destination);
        if (entry == null) {
            return 0;
        }
        if (now >= entry.until() + max) {
            entries.remove(destination); // quiet for long: start from the initial period next time
            return 0;
        }
        return Math.max(0, entry.until() - now);
    }

    synchronized void succeeded(Destination destination) {
        entries.remove(destination);
    }

    /** Destinations in back-off right now (for the gauge); forgets long-expired entries on the way. */
    synchronized int active(long now) {
        entries.values().removeIf(e -> now >= e.until() + max);
        return (int) entries.values().stream().filter(e -> now < e.until()).count();
    }
}
