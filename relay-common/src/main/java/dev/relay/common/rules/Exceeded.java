package dev.relay.common.rules;

import java.time.Instant;

/**
 * A rate limit that does not admit what was asked.
 *
 * @param limit     the limit's name in the rule set
 * @param rule      its path, e.g. {@code rateLimits[0].messages.hour}
 * @param what      {@code messages} or {@code recipients}
 * @param window    the window that is full
 * @param max       the configured maximum for that window
 * @param windowEnd when that window ends (the earliest time it can admit again)
 */
public record Exceeded(String limit, String rule, String what, Window window, long max, Instant windowEnd) {

    /** For SMTP replies: names the limit and its configured value, never anyone's counts. */
    public String describe() {
        return "rate limit " + limit + " (" + max + " " + what + " per " + window.label() + ") reached";
    }
}
