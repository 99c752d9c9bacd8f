package dev.relay.common.rules;

/**
 * The outcome of a relay rule for one recipient; {@code rule} names what decided (its path in the rule set, e.g.
 * {@code relayRoles[0]}, or {@code default-deny}), for logs, events and the admin API's dry run.
 */
public sealed interface RelayDecision {

    String rule();

    record Allow(String rule) implements RelayDecision {
    }

    record Deny(String rule, String reason) implements RelayDecision {
    }

    default boolean allowed() {
        return this instanceof Allow;
    }

    /** The rule without indices ({@code grants.recipients.deny}): a bounded value for metric tags. */
    default String ruleKind() {
        return kind(rule());
    }

    static String kind(String rule) {
        return rule.replaceAll("\\[\\d+]", "");
    }
}
