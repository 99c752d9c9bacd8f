package dev.relay.policy.decide;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.HeaderFrom;
import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RelayDecision;
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

    /** Decides without telling the observer; {@code message} null skips the header From: binding. */
    public PolicyDecision evaluate(Envelope envelope, byte[] message) {
        Compiled now = current();
        RelayRules rules = now.rules();
        Map<Route, List<String>> hops = new LinkedHashMap<>();
        List<PolicyDecision.Refusal> refused = new ArrayList<>();
        Map<String, String> allowedBy = new LinkedHashMap<>();
        Optional<PolicyDecision.Refusal> whole = wholeMessage(rules, envelope, message);
        Optional<RelayRules.Limit> maxRecipients = rules.maxRecipients(envelope.identity());
        for (String recipient : envelope.recipients()) {
            if (whole.isPresent()) {
                refused.add(new PolicyDecision.Refusal(recipient, whole.get().rule(), whole.get().reason()));
                continue;
            }
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
            if (maxRecipients.isPresent() && allowedBy.size() >= maxRecipients.get().value()) {
                refused.add(new PolicyDecision.Refusal(recipient, maxRecipients.get().rule(),
                        "too many recipients (at most " + maxRecipients.get().value() + ")"));
                continue;
            }
            allowedBy.put(recipient, decision.rule());
            hops.computeIfAbsent(now.router().route(address.domainLower()), r -> new ArrayList<>()).add(recipient);
        }
        HeaderEditor.Edit headers = hops.isEmpty() ? HeaderEditor.Edit.NONE
                : HeaderEditor.Edit.of(rules.headerRules(envelope.identity()));
        return new PolicyDecision(hops, refused, allowedBy, headers);
    }

    /**
     * A reason that refuses every recipient: a sender (envelope, null, or header From:) the identity may not use,
     * or a message too large.
     */
    private static Optional<PolicyDecision.Refusal> wholeMessage(RelayRules rules, Envelope envelope,
                                                                 byte[] message) {
        if (envelope.identity() != null && envelope.nullSender()) {
            RelayDecision decision = rules.nullSender(envelope.identity());
            if (decision instanceof RelayDecision.Deny deny) {
                return Optional.of(new PolicyDecision.Refusal(null, deny.rule(), deny.reason()));
            }
        }
        if (message != null && rules.headerFromBound(envelope.identity())) {
            HeaderFrom.Result from = HeaderFrom.of(message);
            if (from.present()) {
                RelayDecision decision = from.valid() ? rules.headerFrom(envelope.identity(), from.addresses())
                        : new RelayDecision.Deny("header-from-not-owned", "the From: header cannot be read");
                if (decision instanceof RelayDecision.Deny deny) {
                    return Optional.of(new PolicyDecision.Refusal(null, deny.rule(), deny.reason()));
                }
            }
        }
        if (envelope.identity() != null && !envelope.nullSender()) {
            ParsedAddress sender = AddressParser.parse(envelope.mailFrom(), envelope.smtputf8());
            if (sender instanceof ParsedAddress.Valid valid) {
                RelayDecision decision = rules.sender(envelope.identity(), valid.address());
                if (decision instanceof RelayDecision.Deny deny) {
                    return Optional.of(new PolicyDecision.Refusal(null, deny.rule(), deny.reason()));
                }
            } else {
                return Optional.of(new PolicyDecision.Refusal(null, "address-syntax",
                        ((ParsedAddress.Invalid) sender).reason()));
            }
        }
        Optional<RelayRules.Limit> maxSize = rules.maxMessageSize(envelope.identity());
        if (maxSize.isPresent() && envelope.size() > maxSize.get().value()) {
            return Optional.of(new PolicyDecision.Refusal(null, maxSize.get().rule(),
                    "message too large (at most " + maxSize.get().value() + " bytes)"));
        }
        return Optional.empty();
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
