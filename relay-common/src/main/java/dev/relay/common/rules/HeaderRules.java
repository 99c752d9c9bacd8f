package dev.relay.common.rules;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks the rule set's header hygiene ({@link RuleSet.HeaderRule}) so that an edit can neither break a message
 * nor hide where it came from: field names as RFC 5322 §3.6.8 defines them, values without CR, LF or other
 * control characters (a CR/LF in a value would inject header fields, or end the header section early), and
 * none of the fields a relay must not remove or forge.
 */
final class HeaderRules {

    /**
     * Never stripped: trace fields (RFC 5321 §4.4: a relay must not remove Received), the originator and
     * identification fields RFC 5322 §3.6 requires, and the MIME fields without which the body cannot be read.
     */
    static final Set<String> NEVER_STRIP = Set.of("received", "from", "date", "message-id", "sender",
            "mime-version", "content-type", "content-transfer-encoding", "resent-from", "resent-date",
            "resent-message-id");

    /**
     * Never added: the above, fields RFC 5322 §3.6 allows at most once (adding one makes a second), and fields
     * that would forge a trace, a delivery or an authentication result, or a signature.
     */
    static final Set<String> NEVER_ADD = Set.of("received", "return-path", "from", "date", "message-id", "sender",
            "reply-to", "to", "cc", "bcc", "subject", "in-reply-to", "references", "mime-version", "content-type",
            "content-transfer-encoding", "content-disposition", "dkim-signature", "arc-seal",
            "arc-message-signature", "arc-authentication-results", "authentication-results", "resent-from",
            "resent-date", "resent-message-id", "resent-sender", "resent-to", "resent-cc", "resent-bcc");

    /** A header line may hold 998 octets (RFC 5322 §2.1.1); our added fields are never folded. */
    static final int MAX_FIELD = 998;

    private HeaderRules() {
    }

    static void validate(List<RuleSet.HeaderRule> rules, List<RuleProblem> problems) {
        for (int i = 0; i < rules.size(); i++) {
            String at = "headers[" + i + "]";
            RuleSet.HeaderRule rule = rules.get(i);
            if (rule == null) {
                problems.add(new RuleProblem(at, "must not be null"));
                continue;
            }
            if (rule.role() != null && rule.group() != null) {
                problems.add(new RuleProblem(at + ".group", "a header rule names at most one role or one group"));
            }
            if (rule.role() != null && (rule.role().isBlank() || !rule.role().equals(rule.role().trim()))) {
                problems.add(new RuleProblem(at + ".role", "must not be empty or start or end with spaces"));
            }
            if (rule.group() != null && (rule.group().isBlank() || !rule.group().equals(rule.group().trim()))) {
                problems.add(new RuleProblem(at + ".group", "must not be empty or start or end with spaces"));
            }
            if (rule.strip().isEmpty() && rule.add().isEmpty()) {
                problems.add(new RuleProblem(at, "names no header to strip or add"));
            }
            for (int s = 0; s < rule.strip().size(); s++) {
                String name = rule.strip().get(s);
                String field = at + ".strip[" + s + "]";
                if (fieldName(name, field, problems) && NEVER_STRIP.contains(name.toLowerCase(Locale.ROOT))) {
                    problems.add(new RuleProblem(field, name + " must not be stripped"));
                }
            }
            for (int a = 0; a < rule.add().size(); a++) {
                add(rule.add().get(a), at + ".add[" + a + "]", problems);
            }
        }
    }

    private static void add(RuleSet.HeaderField field, String at, List<RuleProblem> problems) {
        if (field == null) {
            problems.add(new RuleProblem(at, "must not be null"));
            return;
        }
        if (fieldName(field.name(), at + ".name", problems)
                && NEVER_ADD.contains(field.name().toLowerCase(Locale.ROOT))) {
            problems.add(new RuleProblem(at + ".name", field.name() + " must not be added"));
        }
        String value = field.value();
        if (value == null || value.isBlank()) {
            problems.add(new RuleProblem(at + ".value", "a value is required"));
            return;
        }
        if (!value.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c < 0x7f))) {
            problems.add(new RuleProblem(at + ".value",
                    "only printable ASCII, space and tab (no CR, LF or other control characters)"));
        } else if (!value.equals(value.strip())) {
            problems.add(new RuleProblem(at + ".value", "must not start or end with white space"));
        }
        if (field.name() != null && field.name().length() + 2 + value.length() > MAX_FIELD) {
            problems.add(new RuleProblem(at + ".value", "the field would be longer than " + MAX_FIELD + " octets"));
        }
    }

    /** RFC 5322 §3.6.8: one or more printable US-ASCII characters except the colon. */
    private static boolean fieldName(String name, String at, List<RuleProblem> problems) {
        if (name == null || name.isEmpty()) {
            problems.add(new RuleProblem(at, "a header name is required"));
            return false;
        }
        if (!name.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':') || name.length() > 76) {
            problems.add(new RuleProblem(at, "not a header name (printable ASCII without spaces or ':', at most 76): "
                    + printable(name)));
            return false;
        }
        return true;
    }

    /** For the message: control characters shown escaped, so that a problem line cannot contain a CR or LF. */
    private static String printable(String s) {
        StringBuilder out = new StringBuilder();
        s.chars().limit(80).forEach(c -> out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", c) : (char) c));
        return out.toString();
    }
}
