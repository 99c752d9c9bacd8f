package dev.relay.common.rules;

import dev.relay.common.envelope.Identity;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rule set's DKIM signing rules ({@link RuleSet.DkimRule}): their checks, so that a rule cannot name a key file
 * outside its domain's directory or sign without the From field, and which rule applies to a message. Whether the
 * named keys are loaded is not checked here: keys live in the policy service's key directory and may be added
 * after the rule (a message such a rule matches is held until the key is there).
 */
public final class DkimRules {

    /** Canonicalisations a rule may name ({@code header/body}). */
    public static final List<String> CANONICALIZATIONS = List.of("relaxed/relaxed", "relaxed/simple",
            "simple/relaxed", "simple/simple");
    /** A selector: DNS labels of letters, digits and hyphens, dot-separated (RFC 6376 §3.1); also a file name. */
    private static final Pattern SELECTOR = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            + "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
    /** Fields that must never be in a signature's h= list: the signature itself, and trace fields added later. */
    private static final Set<String> NEVER_SIGNED = Set.of("dkim-signature", "received", "return-path",
            "authentication-results", "arc-seal", "arc-message-signature", "arc-authentication-results");

    private DkimRules() {
    }

    /** A rule that applies, with its path ({@code dkim[1]}) for logs and events. */
    public record Applied(String rule, RuleSet.DkimRule dkim) {
    }

    /**
     * The first rule for this message, or empty: one whose domain is the header From's (or a parent of it, with
     * {@code subdomains}) and whose role, group or organisation the identity holds. Rules without any apply to every
     * sender Relay vouches for; {@code vouched} false (mail received as an MX) never matches.
     */
    public static Optional<Applied> match(List<RuleSet.DkimRule> rules, Identity identity, boolean vouched,
                                          String fromDomainLower) {
        if (!vouched || fromDomainLower == null) {
            return Optional.empty();
        }
        for (int i = 0; i < rules.size(); i++) {
            RuleSet.DkimRule rule = rules.get(i);
            String domain = rule.domain().toLowerCase(Locale.ROOT);
            boolean domainMatches = fromDomainLower.equals(domain)
                    || (rule.includesSubdomains() && fromDomainLower.endsWith("." + domain));
            if (!domainMatches) {
                continue;
            }
            boolean anyone = rule.role() == null && rule.group() == null && rule.organization() == null;
            boolean holder = anyone || Grants.selects(identity, rule.role(), rule.group(), rule.organization());
            if (holder) {
                return Optional.of(new Applied("dkim[" + i + "]", rule));
            }
        }
        return Optional.empty();
    }

    /** {@code 30s}, {@code 15m}, {@code 12h}, {@code 7d}. @throws IllegalArgumentException otherwise */
    public static Duration duration(String value) {
        return ShortDuration.parse(value).orElseThrow(() ->
                new IllegalArgumentException("a duration such as 7d, 12h, 30m or 90s: " + value));
    }

    static void validate(List<RuleSet.DkimRule> rules, List<RuleProblem> problems) {
        for (int i = 0; i < rules.size(); i++) {
            String at = "dkim[" + i + "]";
            RuleSet.DkimRule rule = rules.get(i);
            if (rule == null) {
                problems.add(new RuleProblem(at, "must not be null"));
                continue;
            }
            RuleSetValidator.domain(rule.domain(), at + ".domain", problems);
            selectors(rule, at, problems);
            if (rule.role() != null && rule.group() != null) {
                problems.add(new RuleProblem(at + ".group", "a signing rule names at most one role or one group"));
            }
            if (rule.organization() != null && (rule.role() != null || rule.group() != null)) {
                problems.add(new RuleProblem(at + ".organization",
                        "a signing rule names at most one role, one group or one organization"));
            }
            if (rule.organization() != null
                    && (rule.organization().isBlank() || !rule.organization().equals(rule.organization().trim()))) {
                problems.add(new RuleProblem(at + ".organization", "must not be empty or start or end with spaces"));
            }
            if (rule.role() != null && (rule.role().isBlank() || !rule.role().equals(rule.role().trim()))) {
                problems.add(new RuleProblem(at + ".role", "must not be empty or start or end with spaces"));
            }
            if (rule.group() != null && (rule.group().isBlank() || !rule.group().equals(rule.group().trim()))) {
                problems.add(new RuleProblem(at + ".group", "must not be empty or start or end with spaces"));
            }
            if (rule.headers() != null) {
                headers(rule.headers(), at + ".headers", problems);
            }
            if (rule.canonicalization() != null && !CANONICALIZATIONS.contains(rule.canonicalization())) {
                problems.add(new RuleProblem(at + ".canonicalization", "must be one of " + CANONICALIZATIONS));
            }
            if (rule.expire() != null) {
                try {
                    duration(rule.expire());
                } catch (IllegalArgumentException e) {
                    problems.add(new RuleProblem(at + ".expire", e.getMessage()));
                }
            }
        }
    }

    private static void selectors(RuleSet.DkimRule rule, String at, List<RuleProblem> problems) {
        if (rule.selector() != null && rule.selectors() != null) {
            problems.add(new RuleProblem(at + ".selectors", "name either selector or selectors, not both"));
            return;
        }
        if (rule.selector() == null && rule.selectors() == null) {
            problems.add(new RuleProblem(at + ".selector", "a selector is required (or selectors, for two signatures)"));
            return;
        }
        if (rule.selector() != null) {
            selector(rule.selector(), at + ".selector", problems);
            return;
        }
        if (rule.selectors().isEmpty() || rule.selectors().size() > 2) {
            problems.add(new RuleProblem(at + ".selectors", "one or two selectors (e.g. an RSA and an Ed25519 key)"));
        }
        Set<String> seen = new HashSet<>();
        for (int s = 0; s < rule.selectors().size(); s++) {
            String selector = rule.selectors().get(s);
            selector(selector, at + ".selectors[" + s + "]", problems);
            if (selector != null && !seen.add(selector.toLowerCase(Locale.ROOT))) {
                problems.add(new RuleProblem(at + ".selectors[" + s + "]", "duplicate selector " + selector));
            }
        }
    }

    private static void selector(String value, String at, List<RuleProblem> problems) {
        if (value == null || value.isEmpty()) {
            problems.add(new RuleProblem(at, "a selector is required"));
        } else if (value.length() > 63 || !SELECTOR.matcher(value).matches()) {
            problems.add(new RuleProblem(at, "not a selector (DNS labels of letters, digits and hyphens, at most 63"
                    + " characters): " + printable(value)));
        }
    }

    private static void headers(List<String> headers, String at, List<RuleProblem> problems) {
        boolean from = false;
        for (int h = 0; h < headers.size(); h++) {
            String name = headers.get(h);
            String field = at + "[" + h + "]";
            if (name == null || name.isEmpty() || name.length() > 76
                    || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':')) {
                problems.add(new RuleProblem(field, "not a header name (printable ASCII without spaces or ':'): "
                        + (name == null ? "null" : printable(name))));
                continue;
            }
            String lower = name.toLowerCase(Locale.ROOT);
            from |= lower.equals("from");
            if (NEVER_SIGNED.contains(lower)) {
                problems.add(new RuleProblem(field, name + " must not be signed (added or changed on the way)"));
            }
        }
        if (!from) {
            problems.add(new RuleProblem(at, "must contain From (RFC 6376 §5.4)"));
        }
    }

    private static String printable(String s) {
        StringBuilder out = new StringBuilder();
        s.chars().limit(80).forEach(c -> out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", c) : (char) c));
        return out.toString();
    }
}
