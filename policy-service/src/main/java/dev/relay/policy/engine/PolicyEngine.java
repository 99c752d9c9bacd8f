package dev.relay.policy.engine;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RelayDecision;
import dev.relay.common.rules.RelayRules;
import dev.relay.policy.routing.Router;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Re-evaluates every recipient of an accepted message with the shared rule engine (the ingress decided with
 * the same rules in the session; this is the authority), then groups the allowed ones by next hop. Pure.
 */
public final class PolicyEngine {

    private final RelayRules rules;
    private final Router router;

    public PolicyEngine(RelayRules rules, Router router) {
        this.rules = rules;
        this.router = router;
    }

    public PolicyDecision decide(Envelope envelope) {
        Map<Route, List<String>> hops = new LinkedHashMap<>();
        List<PolicyDecision.Refusal> refused = new ArrayList<>();
        Map<String, String> allowedBy = new LinkedHashMap<>();
        for (String recipient : envelope.recipients()) {
            ParsedAddress parsed = AddressParser.parse(recipient, envelope.smtputf8());
            if (parsed instanceof ParsedAddress.Invalid invalid) {
                refused.add(new PolicyDecision.Refusal(recipient, "address-syntax", invalid.reason()));
                continue;
            }
            MailAddress address = ((ParsedAddress.Valid) parsed).address();
            RelayDecision decision = rules.decide(envelope.clientAddress(), envelope.identity(), address);
            if (decision instanceof RelayDecision.Deny deny) {
                refused.add(new PolicyDecision.Refusal(recipient, deny.rule(), deny.reason()));
                continue;
            }
            allowedBy.put(recipient, decision.rule());
            hops.computeIfAbsent(router.route(address.domainLower()), r -> new ArrayList<>()).add(recipient);
        }
        return new PolicyDecision(hops, refused, allowedBy);
    }
}
