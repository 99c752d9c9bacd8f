package dev.relay.common.rules;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The short durations operators write in rules and API requests: a number and one unit, {@code 90s}, {@code 15m},
 * {@code 12h}, {@code 30d} (lower case, no sign, at most seven digits, never zero). One parser for the rule set's
 * {@code dkim[].expire} and the suppression API's {@code ttl}.
 */
public final class ShortDuration {

    private static final Pattern FORM = Pattern.compile("([1-9][0-9]{0,6})([smhd])");

    private ShortDuration() {
    }

    /** The duration, or empty when {@code value} is not of this form. */
    public static Optional<Duration> parse(String value) {
        Matcher m = value == null ? null : FORM.matcher(value);
        if (m == null || !m.matches()) {
            return Optional.empty();
        }
        long n = Long.parseLong(m.group(1));
        return Optional.of(switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        });
    }
}
