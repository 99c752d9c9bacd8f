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

    /** The compacted topic holding the rule sets (key: rule-set id, value: {@link RuleSet} JSON). */
    @WithDefault("relay.rules.v1")
    String topic();

    default RelayRules toRules() {
        return RelayRules.of(localDomains(),
                trustedNetworks().stream().filter(n -> !n.isBlank() && !n.equals("none")).toList(), relayRoles());
    }
}
