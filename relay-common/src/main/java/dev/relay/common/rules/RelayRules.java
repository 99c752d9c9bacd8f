package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The relay rule engine shared by the ingress (in-session, to refuse at RCPT) and the policy service
 * (authoritative, after acceptance). Default is deny: a recipient outside the local domains is relayed only
 * for an identity holding a relay role or for a client inside a trusted network. The order of checks cannot
 * turn this into an open relay: every allow names a positive reason.
 *
 * @param localDomains    domains Relay accepts mail for from anyone (the MX role), lower case
 * @param trustedNetworks client networks that may relay without authentication
 * @param relayRoles      Keycloak roles that grant relaying
 */
public record RelayRules(Set<String> localDomains, List<Cidr> trustedNetworks, Set<String> relayRoles) {

    public RelayRules {
        localDomains = localDomains.stream().map(d -> d.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        trustedNetworks = List.copyOf(trustedNetworks);
        relayRoles = Set.copyOf(relayRoles);
    }

    public static RelayRules of(List<String> localDomains, List<String> trustedNetworks, List<String> relayRoles) {
        return new RelayRules(Set.copyOf(localDomains), trustedNetworks.stream().map(Cidr::parse).toList(),
                Set.copyOf(relayRoles));
    }

    /**
     * @param clientAddress the client's IP address as text
     * @param identity      the authenticated identity, or null
     * @param recipient     a recipient that passed the address parser
     */
    public RelayDecision decide(String clientAddress, Identity identity, MailAddress recipient) {
        if (isLocal(recipient.domainLower())) {
            return new RelayDecision.Allow("local-domain");
        }
        if (identity != null && relayRoles.stream().anyMatch(identity::hasRole)) {
            return new RelayDecision.Allow("authenticated-relay");
        }
        if (trustedNetworks.stream().anyMatch(n -> n.contains(clientAddress))) {
            return new RelayDecision.Allow("trusted-network");
        }
        return new RelayDecision.Deny("default-deny", identity == null
                ? "authenticate first" : "this identity may not relay to that domain");
    }

    public boolean isLocal(String domainLower) {
        return localDomains.contains(domainLower);
    }
}
