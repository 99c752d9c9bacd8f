package dev.relay.common.rules;

import dev.relay.common.envelope.Identity;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code rateLimits} of a valid rule set, compiled. Pure: the counts come from a {@link Usage}, the time from
 * the caller. A limit applies to a subject when its {@code roles}/{@code groups} scope matches (empty = everyone)
 * and the subject has a key of its {@code per} kind (no identity → per-identity limits do not apply).
 */
public final class RateLimits {

    public static final RateLimits NONE = new RateLimits(List.of());

    private final List<RateLimitRule> rules;

    public RateLimits(List<RateLimitRule> rules) {
        this.rules = List.copyOf(rules);
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /**
     * Whether {@code messages} more messages with {@code recipients} more recipients fit into every applicable
     * window. A single message with more recipients than a recipient limit allows is admitted into an empty
     * window only (it could never fit otherwise; the ingress refuses such a message at RCPT anyway).
     *
     * @return the first limit that does not admit it
     */
    public Optional<Exceeded> admit(Subject subject, Usage usage, Instant now, long messages, long recipients) {
        for (int i = 0; i < rules.size(); i++) {
            RateLimitRule rule = rules.get(i);
            Optional<String> key = key(rule, subject);
            if (key.isEmpty()) {
                continue;
            }
            Per per = Per.ofRule(rule.per()).orElseThrow();
            for (Window window : Window.values()) {
                long bucket = window.bucket(now);
                Count used = usage.used(new Slot(per, key.get(), window, bucket));
                Optional<Exceeded> over = over(rule, i, "messages", rule.messages().of(window), used.messages(),
                        messages, window, bucket);
                if (over.isEmpty()) {
                    over = over(rule, i, "recipients", rule.recipients().of(window), used.recipients(), recipients,
                            window, bucket);
                }
                if (over.isPresent()) {
                    return over;
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Exceeded> over(RateLimitRule rule, int index, String what, Long max, long used,
                                           long asked, Window window, long bucket) {
        if (max == null) {
            return Optional.empty();
        }
        boolean fits = used + asked <= max || (asked > max && used == 0 && what.equals("recipients"));
        if (fits) {
            return Optional.empty();
        }
        return Optional.of(new Exceeded(rule.name(), "rateLimits[" + index + "]." + what + "." + window.label(),
                what, window, max, window.end(bucket)));
    }

    /** The counters a routed message of this subject increments: one per applicable (kind, key, window). */
    public Set<Slot> slots(Subject subject, Instant now) {
        Set<Slot> slots = new LinkedHashSet<>();
        for (RateLimitRule rule : rules) {
            Optional<String> key = key(rule, subject);
            if (key.isEmpty()) {
                continue;
            }
            Per per = Per.ofRule(rule.per()).orElseThrow();
            for (Window window : Window.values()) {
                if (rule.messages().of(window) != null || rule.recipients().of(window) != null) {
                    slots.add(new Slot(per, key.get(), window, window.bucket(now)));
                }
            }
        }
        return slots;
    }

    /** The names of the limits that apply to a subject (for logs and tests). */
    public List<String> applicable(Subject subject) {
        List<String> names = new ArrayList<>();
        rules.stream().filter(r -> key(r, subject).isPresent()).forEach(r -> names.add(r.name()));
        return names;
    }

    private static Optional<String> key(RateLimitRule rule, Subject subject) {
        if (!inScope(rule, subject.identity())) {
            return Optional.empty();
        }
        return Per.ofRule(rule.per()).flatMap(subject::key);
    }

    private static boolean inScope(RateLimitRule rule, Identity identity) {
        if (rule.roles().isEmpty() && rule.groups().isEmpty() && rule.organizations().isEmpty()) {
            return true;
        }
        if (identity == null) {
            return false;
        }
        return rule.roles().stream().anyMatch(identity::hasRole)
                || rule.groups().stream().anyMatch(g -> identity.inGroup(g))
                || rule.organizations().stream().anyMatch(identity::inOrganization);
    }
}
