package dev.relay.common.rules;

/**
 * The outcome of a relay rule for one recipient; {@code rule} names what decided (its path in the rule set, e.g.
 * {@code relayRoles[0]}, or {@code default-deny}), for logs, events and the admin API's dry run.
 */
public sealed interface RelayDecision {

    String rule();

    record Allow(String rule) implements RelayDecision {
    }

    /**
     * @param refusal what kind of refusal: it decides the SMTP reply (relay denied, or no such user)
     */
    record Deny(String rule, String reason, Refusal refusal) implements RelayDecision {
        public Deny {
            refusal = refusal == null ? Refusal.POLICY : refusal;
        }

        /** A refusal by policy (relay denied, recipient denied, sender not owned). */
        public Deny(String rule, String reason) {
            this(rule, reason, Refusal.POLICY);
        }
    }

    /** The kinds of refusal, with the SMTP reply code and enhanced status (RFC 3463) each gets. */
    enum Refusal {
        /** Refused by the rules: 554 5.7.1. */
        POLICY(554, "5.7.1"),
        /** A local domain has no such mailbox: 550 5.1.1 (RFC 3463 §3.2, bad destination mailbox address). */
        UNKNOWN_RECIPIENT(550, "5.1.1");

        private final int code;
        private final String status;

        Refusal(int code, String status) {
            this.code = code;
            this.status = status;
        }

        public int code() {
            return code;
        }

        public String status() {
            return status;
        }
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
