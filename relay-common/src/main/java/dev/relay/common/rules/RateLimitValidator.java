package dev.relay.common.rules;


import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Checks the {@code rateLimits} section; each problem names the entry and field, e.g. {@code rateLimits[1].per}. */
public final class RateLimitValidator {

    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

    private RateLimitValidator() {
    }

    public static void validate(List<RateLimitRule> limits, List<RuleProblem> problems) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < limits.size(); i++) {
            String at = "rateLimits[" + i + "]";
            RateLimitRule rule = limits.get(i);
            if (rule == null) {
                problems.add(new RuleProblem(at, "must not be null"));
                continue;
            }
            if (rule.name() == null || !rule.name().matches(NAME)) {
                problems.add(new RuleProblem(at + ".name",
                        "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"));
            } else if (!names.add(rule.name())) {
                problems.add(new RuleProblem(at + ".name", "duplicate limit name " + rule.name()));
            }
            if (rule.per() == null || Per.ofRule(rule.per()).isEmpty()) {
                problems.add(new RuleProblem(at + ".per", "must be one of identity, sender-domain, client-address"));
            }
            names(rule.roles(), at + ".roles", problems);
            names(rule.groups(), at + ".groups", problems);
            names(rule.organizations(), at + ".organizations", problems);
            quota(rule.messages(), at + ".messages", problems);
            quota(rule.recipients(), at + ".recipients", problems);
            if (rule.messages().isEmpty() && rule.recipients().isEmpty()) {
                problems.add(new RuleProblem(at, "sets no limit: give messages or recipients per minute, hour or day"));
            }
        }
    }

    private static void names(List<String> values, String at, List<RuleProblem> problems) {
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            if (v == null || v.isBlank() || !v.equals(v.trim())) {
                problems.add(new RuleProblem(at + "[" + i + "]", "must be a non-empty name without surrounding spaces"));
            }
        }
    }

    private static void quota(RateLimitRule.Quota quota, String at, List<RuleProblem> problems) {
        for (Window window : Window.values()) {
            Long value = quota.of(window);
            if (value != null && value < 1) {
                problems.add(new RuleProblem(at + "." + window.label(), "must be at least 1"));
            }
        }
    }
}
