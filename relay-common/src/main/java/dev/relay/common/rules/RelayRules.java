package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;
import dev.relay.common.net.Cidr;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import static dev.relay.common.rules.Grants.holds;
import static dev.relay.common.rules.Grants.indexOfIgnoreCase;
import static dev.relay.common.rules.Grants.match;

/**
 * The relay rule engine shared by the ingress (in-session, to refuse at RCPT) and the policy service
 * (authoritative, after acceptance), compiled from a valid {@link RuleSet}.
 *
 * <p>Order of evaluation for one recipient, which cannot turn into an open relay whatever the order of the
 * entries in the rule set: (1) a matching deny entry (global, or of a grant the identity holds) refuses;
 * (2) a local domain accepts the recipient when its recipient source ({@code localRecipients}) knows it, or it is
 * {@code postmaster}, and refuses it as {@value #UNKNOWN_RECIPIENT} otherwise, whoever sends; (3) relaying needs a
 * positive reason: a relay role or group, an allow entry of a grant the identity holds, a global allow entry for
 * an authenticated identity, or a trusted client network;
 * (4) otherwise {@code default-deny}. Every decision names the rule that decided as its path in the rule set,
 * e.g. {@code relayRoles[0]} or {@code grants[1].recipients.deny[0]}.
 */
public final class RelayRules {

    public static final String DEFAULT_DENY = "default-deny";
    /** The rule of a recipient in a local domain that its recipient source does not know. */
    public static final String UNKNOWN_RECIPIENT = "unknown-recipient";
    /** RFC 5321 §4.5.1: every domain that accepts mail must accept it for postmaster. */
    public static final String POSTMASTER = "postmaster";

    private final RuleSet set;
    private final List<Cidr> networks;
    private final RateLimits rateLimits;
    private final Map<String, LocalMailboxes> mailboxes;
    private final SenderRules senders;

    private RelayRules(RuleSet set) {
        this.set = set;
        this.networks = set.trustedNetworks().stream().map(Cidr::parse).toList();
        this.rateLimits = new RateLimits(set.rateLimits());
        Map<String, LocalMailboxes> byDomain = new HashMap<>();
        for (int i = 0; i < set.localRecipients().size(); i++) {
            RuleSet.LocalRecipients entry = set.localRecipients().get(i);
            byDomain.put(entry.domain().toLowerCase(Locale.ROOT), LocalMailboxes.of(entry, i));
        }
        this.mailboxes = Map.copyOf(byDomain);
        this.senders = new SenderRules(set);
    }

    /** @throws RuleSetException when the set is not valid */
    public static RelayRules from(RuleSet set) {
        List<RuleProblem> problems = RuleSetValidator.validate(set);
        if (!problems.isEmpty()) {
            throw new RuleSetException(problems);
        }
        return new RelayRules(set);
    }

    /** Rules without recipient sources (their local domains accept only postmaster). */
    public static RelayRules of(List<String> localDomains, List<String> trustedNetworks, List<String> relayRoles) {
        return of(localDomains, trustedNetworks, relayRoles, List.of());
    }

    /** The rules of the {@code relay.rules.*} configuration: the seed when the rules topic is empty. */
    public static RelayRules of(List<String> localDomains, List<String> trustedNetworks, List<String> relayRoles,
                                List<RuleSet.LocalRecipients> localRecipients) {
        return from(new RuleSet(RuleSet.FORMAT_VERSION, localDomains, trustedNetworks, relayRoles, null, null, null,
                null, null, null, null, null, localRecipients));
    }

    public RuleSet ruleSet() {
        return set;
    }

    /** The cluster-wide rate limits of this rule set (empty when it has none). */
    public RateLimits rateLimits() {
        return rateLimits;
    }

    /**
     * @param clientAddress the client's IP address as text
     * @param identity      the authenticated identity, or null
     * @param recipient     a recipient that passed the address parser
     */
    public RelayDecision decide(String clientAddress, Identity identity, MailAddress recipient) {
        String address = (recipient.localPart() + "@" + recipient.domainLower()).toLowerCase(Locale.ROOT);
        String domain = recipient.domainLower();
        Optional<String> denied = match(set.recipients().deny(), "recipients.deny", address, domain);
        for (int g = 0; denied.isEmpty() && g < set.grants().size(); g++) {
            if (holds(identity, set.grants().get(g))) {
                denied = match(set.grants().get(g).recipients().deny(), "grants[" + g + "].recipients.deny", address,
                        domain);
            }
        }
        if (denied.isPresent()) {
            return new RelayDecision.Deny(denied.get(), "recipient refused by policy");
        }
        int local = indexOfIgnoreCase(set.localDomains(), domain);
        if (local >= 0) {
            return localRecipient(local, recipient);
        }
        if (identity != null) {
            for (int i = 0; i < set.relayRoles().size(); i++) {
                if (identity.hasRole(set.relayRoles().get(i))) {
                    return new RelayDecision.Allow("relayRoles[" + i + "]");
                }
            }
            for (int i = 0; i < set.relayGroups().size(); i++) {
                if (identity.inGroup(set.relayGroups().get(i))) {
                    return new RelayDecision.Allow("relayGroups[" + i + "]");
                }
            }
            for (int g = 0; g < set.grants().size(); g++) {
                if (holds(identity, set.grants().get(g))) {
                    Optional<String> allowed = match(set.grants().get(g).recipients().allow(),
                            "grants[" + g + "].recipients.allow", address, domain);
                    if (allowed.isPresent()) {
                        return new RelayDecision.Allow(allowed.get());
                    }
                }
            }
            Optional<String> allowed = match(set.recipients().allow(), "recipients.allow", address, domain);
            if (allowed.isPresent()) {
                return new RelayDecision.Allow(allowed.get());
            }
        }
        for (int i = 0; i < networks.size(); i++) {
            if (networks.get(i).contains(clientAddress)) {
                return new RelayDecision.Allow("trustedNetworks[" + i + "]");
            }
        }
        return new RelayDecision.Deny(DEFAULT_DENY, identity == null
                ? "authenticate first" : "this identity may not relay to that domain");
    }

    /**
     * A recipient in the local domain at {@code localDomains[index]}: known to its recipient source, or
     * postmaster, or refused. Refusing here (the session answers 550 5.1.1 at RCPT) is what keeps the MX role
     * from accepting mail it would have to bounce to a sender nobody verified.
     */
    private RelayDecision localRecipient(int index, MailAddress recipient) {
        String local = LocalMailboxes.normalise(recipient.localPart());
        if (local.equals(POSTMASTER)) {
            return new RelayDecision.Allow("localDomains[" + index + "]");
        }
        LocalMailboxes source = mailboxes.get(recipient.domainLower());
        Optional<String> known = source == null ? Optional.empty() : source.find(local);
        return known.<RelayDecision>map(RelayDecision.Allow::new).orElseGet(() -> new RelayDecision.Deny(
                UNKNOWN_RECIPIENT, "no such user here", RelayDecision.Refusal.UNKNOWN_RECIPIENT));
    }

    /**
     * Whether the client address is in one of the trusted networks (relays without AUTH). Recorded in the
     * envelope at acceptance, so that the services after the ingress know whom they may send DSNs to.
     */
    public boolean trusts(String clientAddress) {
        if (clientAddress == null) {
            return false;
        }
        for (Cidr network : networks) {
            if (network.contains(clientAddress)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether an authenticated identity may use this MAIL FROM: its own email and {@code smtp_senders}
     * ({@link SenderPolicy}), or a {@code senders} entry of a grant it holds.
     */
    public RelayDecision sender(Identity identity, MailAddress sender) {
        return senders.sender(identity, sender);
    }

    /** Whether an authenticated identity may use the null reverse-path {@code MAIL FROM:<>} ({@link SenderRules}). */
    public RelayDecision nullSender(Identity identity) {
        return senders.nullSender(identity);
    }

    /** Whether the header {@code From:} of this identity's submissions is bound ({@link SenderRules}). */
    public boolean headerFromBound(Identity identity) {
        return senders.headerFromBound(identity);
    }

    /**
     * The header {@code From:} check ({@link SenderRules}).
     *
     * @param fromAddresses the addresses of the header From (already parsed); empty when there is none
     */
    public RelayDecision headerFrom(Identity identity, List<MailAddress> fromAddresses) {
        return senders.headerFrom(identity, fromAddresses);
    }

    /** Convenience for callers that only need a yes/no (e.g. at MAIL FROM). */
    public boolean mayUseSender(Identity identity, MailAddress sender) {
        return sender(identity, sender).allowed();
    }

    /**
     * The most generous limit among the grants the identity holds, else the global limit; empty when the rule
     * set sets none (the service's own configured limit applies).
     */
    public Optional<Limit> maxRecipients(Identity identity) {
        return limit(identity, "maxRecipients");
    }

    public Optional<Limit> maxMessageSize(Identity identity) {
        return limit(identity, "maxMessageSize");
    }

    /** A limit and the rule that set it, e.g. {@code grants[0].limits.maxRecipients}. */
    public record Limit(long value, String rule) {
    }

    private Optional<Limit> limit(Identity identity, String field) {
        Limit best = null;
        for (int g = 0; g < set.grants().size(); g++) {
            if (holds(identity, set.grants().get(g))) {
                Long value = value(set.grants().get(g).limits(), field);
                if (value != null && (best == null || value > best.value())) {
                    best = new Limit(value, "grants[" + g + "].limits." + field);
                }
            }
        }
        if (best == null && value(set.limits(), field) != null) {
            best = new Limit(value(set.limits(), field), "limits." + field);
        }
        return Optional.ofNullable(best);
    }

    private static Long value(RuleSet.Limits limits, String field) {
        return field.equals("maxRecipients")
                ? (limits.maxRecipients() == null ? null : limits.maxRecipients().longValue())
                : limits.maxMessageSize();
    }

    public boolean isLocal(String domainLower) {
        return indexOfIgnoreCase(set.localDomains(), domainLower) >= 0;
    }

    // --- header hygiene -------------------------------------------------------------------------------------

    /** A header rule that applies, with its path ({@code headers[1]}) for logs. */
    public record AppliedHeaderRule(String rule, RuleSet.HeaderRule headers) {
    }

    /**
     * The header rules for mail of this identity, in rule-set order: none for unauthenticated mail (the relay
     * never rewrites what it receives as an MX); rules without role and group for every authenticated identity.
     */
    public List<AppliedHeaderRule> headerRules(Identity identity) {
        if (identity == null) {
            return List.of();
        }
        List<AppliedHeaderRule> out = new java.util.ArrayList<>();
        for (int i = 0; i < set.headers().size(); i++) {
            RuleSet.HeaderRule rule = set.headers().get(i);
            boolean applies = rule.role() != null ? identity.hasRole(rule.role())
                    : rule.group() == null || identity.inGroup(rule.group());
            if (applies) {
                out.add(new AppliedHeaderRule("headers[" + i + "]", rule));
            }
        }
        return out;
    }

}
