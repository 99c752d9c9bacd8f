package dev.relay.common.rules;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.List;

/**
 * The relay rules' configuration: shared keys {@code relay.rules.*}, read by the ingress and the policy service
 * alike (relay-common is a bean archive, so Quarkus finds this mapping in both). The lists are the seed: the
 * rules in force until the rule set in {@link #topic()} was read, and what the policy service stores there when
 * the topic holds none yet.
 */
@ConfigMapping(prefix = "relay.rules")
public interface RulesConfig {

    /** Domains Relay accepts mail for from anyone (the MX role). */
    @WithDefault("example.test")
    List<String> localDomains();

    /** Client networks that may relay without authentication, e.g. 10.0.0.0/8. "none" for none. */
    @WithDefault("none")
    List<String> trustedNetworks();

    /** Keycloak realm roles that may relay to any domain. */
    @WithDefault("smtp-relay")
    List<String> relayRoles();

    /**
     * Mailboxes that exist in the local domains ({@code alice@example.test}); any other recipient in a local
     * domain is refused at RCPT with 550 5.1.1, except postmaster and the catch-all domains. "none" for none.
     */
    @WithDefault("none")
    List<String> localRecipients();

    /**
     * Local domains that accept every recipient (the next hop decides; what it refuses is not bounced to
     * unauthenticated senders). The opt-in for the old accept-everything behaviour. "none" for none.
     */
    @WithDefault("none")
    List<String> catchAllDomains();

    /**
     * A DKIM selector: when set, the seed signs mail whose header From is in a local domain with the key
     * {@code <domain>/<selector>.pem} of the policy's key directory (one {@code dkim} rule per local domain; what
     * {@code ./relay up} uses with its development keys). "none": the seed signs nothing.
     */
    @WithDefault("none")
    String dkimSelector();

    /** The compacted topic holding the rule sets (key: rule-set id, value: {@link RuleSet} JSON). */
    @WithDefault("relay.rules.v1")
    String topic();

    default RelayRules toRules() {
        java.util.function.Function<List<String>, List<String>> given =
                values -> values.stream().filter(v -> !v.isBlank() && !v.equals("none")).toList();
        RelayRules seed = RelayRules.of(localDomains(), given.apply(trustedNetworks()), relayRoles(),
                RuleSet.LocalRecipients.seed(given.apply(localRecipients()), given.apply(catchAllDomains())));
        String selector = dkimSelector().trim();
        if (selector.isEmpty() || selector.equals("none")) {
            return seed;
        }
        return RelayRules.from(seed.ruleSet().withDkim(localDomains().stream()
                .map(domain -> new RuleSet.DkimRule(domain.trim(), null, selector, null, null, null, null, null, null))
                .toList()));
    }
}
