package dev.relay.policy.decide;

import dev.relay.common.envelope.Route;

import java.util.List;
import java.util.Map;

/**
 * The authoritative outcome for one accepted message.
 *
 * @param hops     next hop → the recipients routed over it (insertion order)
 * @param refused  recipients the rules refuse, with the rule that decided
 * @param rules    recipient → the rule that allowed it, for the log line and the events
 * @param headers  the header hygiene for the outbound copies (from the same rule set that decided)
 */
public record PolicyDecision(Map<Route, List<String>> hops, List<Refusal> refused, Map<String, String> rules,
                             HeaderEditor.Edit headers) {

    public PolicyDecision {
        headers = headers == null ? HeaderEditor.Edit.NONE : headers;
    }

    /** A decision without header edits. */
    public PolicyDecision(Map<Route, List<String>> hops, List<Refusal> refused, Map<String, String> rules) {
        this(hops, refused, rules, HeaderEditor.Edit.NONE);
    }

    public record Refusal(String recipient, String rule, String reason) {
    }
}
