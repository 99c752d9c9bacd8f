package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static dev.relay.common.rules.Grants.holds;
import static dev.relay.common.rules.Grants.match;

/**
 * The sender bindings of a rule set: which MAIL FROM, null sender and header {@code From:} an identity may use.
 * Kept apart from {@link RelayRules}' recipient decision; {@link RelayRules} is the public face of both.
 */
final class SenderRules {

    private final RuleSet set;

    SenderRules(RuleSet set) {
        this.set = set;
    }

    /**
     * Whether an authenticated identity may use this MAIL FROM: its own email and {@code smtp_senders}
     * ({@link SenderPolicy}), or a {@code senders} entry of a grant it holds.
     */
    RelayDecision sender(Identity identity, MailAddress sender) {
        if (identity == null) {
            return new RelayDecision.Allow("unauthenticated");
        }
        if (SenderPolicy.owns(identity, sender)) {
            return new RelayDecision.Allow("identity-senders");
        }
        String address = (sender.localPart() + "@" + sender.domainLower()).toLowerCase(Locale.ROOT);
        for (int g = 0; g < set.grants().size(); g++) {
            if (holds(identity, set.grants().get(g))) {
                Optional<String> hit = match(set.grants().get(g).senders(), "grants[" + g + "].senders", address,
                        sender.domainLower());
                if (hit.isPresent()) {
                    return new RelayDecision.Allow(hit.get());
                }
            }
        }
        return new RelayDecision.Deny("sender-not-owned", "this identity may not send as " + sender);
    }

    /**
     * Whether an authenticated identity may submit with the null reverse-path {@code MAIL FROM:<>}: only when a
     * grant it holds says {@code "nullSender": true}. Bounces are the remote MTA's business; a user's
     * {@code <>} would otherwise be a message no sender binding covers. The unauthenticated (MX role, trusted
     * networks) may always use it (RFC 5321 §4.5.5).
     */
    RelayDecision nullSender(Identity identity) {
        if (identity == null) {
            return new RelayDecision.Allow("unauthenticated");
        }
        for (int g = 0; g < set.grants().size(); g++) {
            RuleSet.Grant grant = set.grants().get(g);
            if (holds(identity, grant) && Boolean.TRUE.equals(grant.nullSender())) {
                return new RelayDecision.Allow("grants[" + g + "].nullSender");
            }
        }
        return new RelayDecision.Deny("null-sender-not-allowed",
                "an authenticated identity may not use the null sender <>");
    }

    /**
     * Whether the header {@code From:} of this identity's submissions is bound to the addresses it may use (the
     * default): false only when a grant it holds says {@code "headerFrom": "free"}. Unauthenticated mail is not
     * bound (the MX role receives mail from everyone).
     */
    boolean headerFromBound(Identity identity) {
        if (identity == null) {
            return false;
        }
        for (RuleSet.Grant grant : set.grants()) {
            if (holds(identity, grant) && RuleSet.Grant.HEADER_FROM_FREE.equals(grant.headerFrom())) {
                return false;
            }
        }
        return true;
    }

    /**
     * The header {@code From:} check: every address in {@code fromAddresses} must be one the identity may use
     * ({@link #sender}). Allows when the From is not bound for this identity.
     *
     * @param fromAddresses the addresses of the header From (already parsed); empty when there is none
     */
    RelayDecision headerFrom(Identity identity, List<MailAddress> fromAddresses) {
        if (!headerFromBound(identity)) {
            return new RelayDecision.Allow(identity == null ? "unauthenticated" : "headerFrom-free");
        }
        if (fromAddresses.isEmpty()) {
            return new RelayDecision.Deny("header-from-not-owned", "the message has no usable From: address");
        }
        for (MailAddress from : fromAddresses) {
            if (sender(identity, from) instanceof RelayDecision.Deny) {
                return new RelayDecision.Deny("header-from-not-owned",
                        "this identity may not use " + from + " in From:");
            }
        }
        return new RelayDecision.Allow("header-from-bound");
    }
}
