package dev.relay.policy.decide;

import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RuleSet;

import java.util.List;
import java.util.Map;

/**
 * The authoritative outcome for one accepted message.
 *
 * @param hops     next hop → the recipients routed over it (insertion order)
 * @param refused  recipients the rules refuse, with the rule that decided
 * @param rules    recipient → the rule that allowed it, for the log line and the events
 * @param headers  the header hygiene for the outbound copies (from the same rule set that decided)
 * @param dkim     the DKIM signing rules of the rule set that decided (empty when nothing is routed)
 */
public record PolicyDecision(Map<Route, List<String>> hops, List<Refusal> refused, Map<String, String> rules,
                             HeaderEditor.Edit headers, List<RuleSet.DkimRule> dkim) {

    public PolicyDecision {
        headers = headers == null ? HeaderEditor.Edit.NONE : headers;
        dkim = dkim == null ? List.of() : dkim;
    }

    /** A decision without signing rules. */
    public PolicyDecision(Map<Route, List<String>> hops, List<Refusal> refused, Map<String, String> rules,
                          HeaderEditor.Edit headers) {
        this(hops, refused, rules, headers, List.of());
    }

    /** A decision without header edits. */
    public PolicyDecision(Map<Route, List<String>> hops, List<Refusal> refused, Map<String, String> rules) {
        this(hops, refused, rules, HeaderEditor.Edit.NONE);
    }

    public record Refusal(String recipient, String rule, String reason) {
    }
}
