package dev.relay.delivery.mtasts;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A parsed MTA-STS policy (RFC 8461 §3.2): {@code version: STSv1}, {@code mode}, {@code mx} patterns and
 * {@code max_age}. Lines end with CRLF or LF; keys and values are separated by {@code ":"} with optional
 * whitespace; unknown keys are ignored; of a repeated key other than {@code mx} the first counts.
 *
 * @param mode          enforce, testing or none
 * @param mx            the MX patterns, lower case: a host name, or {@code *.} and a domain, which matches one
 *                      more label at its left (RFC 8461 §4.1)
 * @param maxAgeSeconds how long the policy may be cached, at most {@value #MAX_AGE_LIMIT}
 */
public record StsPolicy(Mode mode, List<String> mx, long maxAgeSeconds) {

    /** RFC 8461 §3.2: the largest max_age (about one year). */
    public static final long MAX_AGE_LIMIT = 31_557_600L;

    public enum Mode {
        ENFORCE, TESTING, NONE;

        /** The metric tag and event value: {@code enforce}, {@code testing}, {@code none}. */
        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final Pattern MX_PATTERN = Pattern.compile(
            "(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,18}");
    private static final int MAX_MX_PATTERNS = 100;

    public StsPolicy {
        mx = List.copyOf(mx);
    }

    /** The policy in {@code body}, or why it is not one. */
    public static Parsed parse(String body) {
        String version = null;
        String mode = null;
        String maxAge = null;
        List<String> mx = new ArrayList<>();
        for (String raw : body.split("\n", -1)) {
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            if (line.isBlank()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                return new Parsed.Bad("line without a key: " + StsRecord.printable(line));
            }
            String key = line.substring(0, colon).strip();
            String value = line.substring(colon + 1).strip();
            switch (key) {
                case "version" -> version = version == null ? value : version;
                case "mode" -> mode = mode == null ? value : mode;
                case "max_age" -> maxAge = maxAge == null ? value : maxAge;
                case "mx" -> {
                    if (mx.size() >= MAX_MX_PATTERNS) {
                        return new Parsed.Bad("more than " + MAX_MX_PATTERNS + " mx lines");
                    }
                    String pattern = trimDot(value.toLowerCase(Locale.ROOT));
                    if (!MX_PATTERN.matcher(pattern).matches() || pattern.length() > 253) {
                        return new Parsed.Bad("malformed mx " + StsRecord.printable(value));
                    }
                    mx.add(pattern);
                }
                default -> { } // unknown keys are ignored (RFC 8461 §3.2)
            }
        }
        if (!"STSv1".equals(version)) {
            return new Parsed.Bad("version is not STSv1");
        }
        Mode parsedMode = switch (mode == null ? "" : mode) {
            case "enforce" -> Mode.ENFORCE;
            case "testing" -> Mode.TESTING;
            case "none" -> Mode.NONE;
            default -> null;
        };
        if (parsedMode == null) {
            return new Parsed.Bad("mode is not enforce, testing or none");
        }
        if (maxAge == null || !DIGITS.matcher(maxAge).matches()) {
            return new Parsed.Bad("max_age is not a number of seconds");
        }
        if (parsedMode != Mode.NONE && mx.isEmpty()) {
            return new Parsed.Bad("no mx in mode " + parsedMode.tag());
        }
        return new Parsed.Good(new StsPolicy(parsedMode, mx, Math.min(MAX_AGE_LIMIT, Long.parseLong(maxAge))));
    }

    /** True when MX host {@code host} matches one of the policy's patterns (RFC 8461 §4.1). */
    public boolean matches(String host) {
        String name = trimDot(host.toLowerCase(Locale.ROOT));
        for (String pattern : mx) {
            if (pattern.startsWith("*.")) {
                String parent = pattern.substring(1); // ".example.org"
                int dot = name.indexOf('.');
                if (dot > 0 && name.substring(dot).equals(parent)) {
                    return true;
                }
            } else if (pattern.equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static String trimDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** The outcome of parsing a policy body. */
    public sealed interface Parsed {
        record Good(StsPolicy policy) implements Parsed {
        }

        record Bad(String why) implements Parsed {
        }
    }
}
