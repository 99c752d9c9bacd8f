package dev.relay.policy.engine;

import dev.relay.common.envelope.Route;

import java.util.List;
import java.util.Map;

/**
 * The authoritative outcome for one accepted message.
 *
 * @param hops     next hop → the recipients routed over it (insertion order)
 * @param refused  recipients the rules refuse, with the rule that decided
 * @param rules    recipient → the rule that allowed it, for the log line and the events
 */
public record PolicyDecision(Map<Route, List<String>> hops, List<Refusal> refused, Map<String, String> rules) {

    public record Refusal(String recipient, String rule, String reason) {
    }
}
