package dev.relay.policy.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Map;
import java.util.Optional;

/** Every {@code relay.policy.*} key; the README's configuration table lists them with these defaults. */
@ConfigMapping(prefix = "relay.policy")
public interface PolicyConfig {

    /**
     * Static transport map: recipient domain (or {@code *.domain} for subdomains) to next hop {@code host:port}.
     * Set as {@code relay.policy.routes."example.org"=mx.internal:25}.
     */
    Map<String, String> routes();

    /** Next hop {@code host:port} for every domain without a static route; when absent, DNS MX is used. */
    Optional<String> smarthost();

    /** TLS policy for static routes and the smarthost: none, opportunistic, required or verify. */
    @WithDefault("opportunistic")
    String routeTls();

    /**
     * A rule-set JSON file ({@link dev.relay.common.rules.RuleSet}) stored in the rules topic on first start, when
     * the topic holds no rule set yet. When absent, the {@code relay.rules.*} configuration is the seed.
     */
    Optional<String> rulesFile();

    /** Keycloak base URL for the admin API's token verification (realm {@code relay}). */
    @WithDefault("http://127.0.0.1:8180")
    String keycloakUrl();

    /** How long startup waits for the rules topic to be read before the service runs with the seed rules. */
    @WithDefault("30s")
    java.time.Duration rulesStartupTimeout();

    /** Topic names; application.properties maps the messaging channels to them (the same keys). */
    TopicNames topics();

    interface TopicNames {
        @WithDefault("relay.inbound.v1")
        String inbound();

        @WithDefault("relay.outbound.v1")
        String outbound();

        @WithDefault("relay.events.v1")
        String events();

        @WithDefault("relay.dlq.v1")
        String dlq();
    }
}
