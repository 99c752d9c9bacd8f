package dev.relay.common.rules;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * Fixed, UTC-aligned counting windows. A window is a bucket number ({@code epochMillis / length}); all services
 * agree on it without coordination. A fixed window lets a burst straddling a boundary reach twice the limit
 * (the end of one window and the start of the next); that is the price of counters that need no clock sync.
 */
public enum Window {
    MINUTE(Duration.ofMinutes(1)), HOUR(Duration.ofHours(1)), DAY(Duration.ofDays(1));

    private final long millis;

    Window(Duration length) {
        this.millis = length.toMillis();
    }

    public long bucket(Instant at) {
        return Math.floorDiv(at.toEpochMilli(), millis);
    }

    /** The first instant after the bucket. */
    public Instant end(long bucket) {
        return Instant.ofEpochMilli((bucket + 1) * millis);
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Window of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
