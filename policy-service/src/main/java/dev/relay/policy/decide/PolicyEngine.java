package dev.relay.policy.decide;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RelayChecks;
import dev.relay.common.rules.RelayRules;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Re-evaluates every recipient of an accepted message with the shared rule engine (the ingress decided with
 * the same rules in the session; this is the authority), then groups the allowed ones by next hop. Evaluates
 * with the rules in force at the time ({@code rules.get()} per message) and the routes of that rule set, or the
 * configured fallback routes when the rule set has none. Otherwise pure.
 *
 * <p>Besides the per-recipient decision it enforces what the session cannot know for sure: the sender grants
 * of the rule set (rule {@code sender-not-owned}), the null sender of an authenticated identity (rule
 * {@code null-sender-not-allowed}), the binding of the header {@code From:} (rule {@code header-from-not-owned},
 * when the message bytes are given), and the rule set's per-message limits (the rule named is the
 * limit's path, e.g. {@code grants[0].limits.maxRecipients}).
 */
public final class PolicyEngine {

    private final Supplier<RelayRules> rules;
    private final Router fallbackRouter;
    private final String defaultTls;
    private volatile Compiled compiled;

    private record Compiled(RelayRules rules, Router router) {
    }

    public PolicyEngine(Supplier<RelayRules> rules, Router fallbackRouter, String defaultTls) {
        this.rules = rules;
        this.fallbackRouter = fallbackRouter;
        this.defaultTls = defaultTls;
    }

    /** Fixed rules (tests, tools). */
    public PolicyEngine(RelayRules rules, Router router) {
        this(() -> rules, router, "opportunistic");
    }

    /** Told about every evaluation and header edit (metrics); the engine itself stays free of I/O. */
    public interface Observer {
        Observer NONE = new Observer() {
        };

        default void evaluated(long nanos) {
        }

        default void headersEdited(int stripped, int added) {
        }
    }

    private volatile Observer observer = Observer.NONE;

    public void observe(Observer observer) {
        this.observer = observer == null ? Observer.NONE : observer;
    }

    /** Decides one accepted message without looking at its content (timed for the observer). */
    public PolicyDecision decide(Envelope envelope) {
        return decide(envelope, null);
    }

    /**
     * Decides one accepted message (timed for the observer).
     *
     * @param message its bytes, for the header {@code From:} binding; null skips that check
     */
    public PolicyDecision decide(Envelope envelope, byte[] message) {
        long start = System.nanoTime();
        PolicyDecision decision = evaluate(envelope, message);
        observer.evaluated(System.nanoTime() - start);
        return decision;
    }

    /**
     * The outbound bytes of a decided message: its header hygiene applied (the same bytes when there is none).
     * Only the named header fields change; the body is untouched.
     */
    public byte[] outboundBytes(PolicyDecision decision, byte[] message) {
        if (decision.headers().isEmpty()) {
            return message;
        }
        HeaderEditor.Result result = HeaderEditor.apply(decision.headers(), message);
        observer.headersEdited(result.stripped(), result.added());
        return result.message();
    }

    /** Decides without telling the observer and without content (the admin API's dry run). */
    public PolicyDecision evaluate(Envelope envelope) {
        return evaluate(envelope, null);
    }

    /**
     * Decides without telling the observer; {@code message} null skips the header From: binding. The checks and
     * their order are {@link RelayChecks}' (stage POLICY), shared with the ingress: the sender checks once for the
     * whole message (a failure refuses every recipient), then each recipient's.
     */
    public PolicyDecision evaluate(Envelope envelope, byte[] message) {
        Compiled now = current();
        RelayRules rules = now.rules();
        Map<Route, List<String>> hops = new LinkedHashMap<>();
        List<PolicyDecision.Refusal> refused = new ArrayList<>();
        Map<String, String> allowedBy = new LinkedHashMap<>();
        RelayChecks.Context context = new RelayChecks.Context(rules, envelope.clientAddress(), envelope.identity(),
                envelope.smtputf8());
        RelayChecks.Failure whole = RelayChecks.sender(RelayChecks.Stage.POLICY, context,
                envelope.mailFrom(), message, envelope.size(), null).failure();
        Optional<RelayRules.Limit> maxRecipients = rules.maxRecipients(envelope.identity());
        for (String recipient : envelope.recipients()) {
            RelayChecks.Failure failure = whole;
            if (failure == null) {
                RelayChecks.Outcome<RelayChecks.Allowed> checked = RelayChecks.recipient(RelayChecks.Stage.POLICY,
                        context, envelope.mailFrom(), recipient, allowedBy.size(), maxRecipients, null);
                failure = checked.failure();
                if (checked.passed()) {
                    allowedBy.put(recipient, checked.value().rule());
                    hops.computeIfAbsent(now.router().route(checked.value().address().domainLower()),
                            r -> new ArrayList<>()).add(recipient);
                    continue;
                }
            }
            refused.add(new PolicyDecision.Refusal(recipient, failure.rule(), failure.reason()));
        }
        HeaderEditor.Edit headers = hops.isEmpty() ? HeaderEditor.Edit.NONE
                : HeaderEditor.Edit.of(rules.headerRules(envelope.identity()));
        return new PolicyDecision(hops, refused, allowedBy, headers,
                hops.isEmpty() ? List.of() : rules.ruleSet().dkim());
    }

    /** The rules in force now. */
    public RelayRules rules() {
        return current().rules();
    }

    /** The next hop for a domain with the routes in force now (the same router {@link #decide} uses). */
    public Route route(String domainLower) {
        return current().router().route(domainLower);
    }

    /**
     * The next hop for DSNs to this message's sender (the route of its domain, LOCAL for a local domain), carried
     * in the outbound envelopes for the delivery service's DSNs; null when no DSN may go to the sender (null
     * sender, nobody vouched for it, an unreadable address).
     */
    public Route returnRoute(Envelope envelope) {
        if (envelope.nullSender() || !envelope.vouchedSender()) {
            return null;
        }
        return AddressParser.parse(envelope.mailFrom(), envelope.smtputf8()) instanceof ParsedAddress.Valid valid
                ? route(valid.address().domainLower()) : null;
    }

    private Compiled current() {
        RelayRules now = rules.get();
        Compiled c = compiled;
        if (c == null || c.rules() != now) {
            c = new Compiled(now, Router.of(now.ruleSet(), fallbackRouter, defaultTls));
            compiled = c;
        }
        return c;
    }
}
