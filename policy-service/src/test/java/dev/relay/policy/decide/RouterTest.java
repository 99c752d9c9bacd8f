package dev.relay.policy.decide;

import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Next hops, local domains above all (issue 13): a local domain's MX is Relay itself. */
class RouterTest {

    private static final Router CONFIGURED = new Router(Map.of(), Optional.empty(), "opportunistic");

    private static RuleSet rules(String json) {
        return RuleSetCodec.parse(json);
    }

    @Test
    void shouldRouteALocalDomainToTheMailboxBackendNotItsMx() {
        Router router = Router.of(rules("""
                {"version":1,"localDomains":["example.test","Other.Example"],"relayRoles":["smtp-relay"]}"""),
                CONFIGURED, "opportunistic");

        assertThat(router.route("example.test")).isEqualTo(Route.local("example.test"));
        assertThat(router.route("OTHER.example")).isEqualTo(Route.local("other.example"));
        assertThat(router.route("remote.example")).isEqualTo(Route.mx("remote.example"));
        assertThat(router.route("sub.example.test")).as("a subdomain is not the local domain")
                .isEqualTo(Route.mx("sub.example.test"));
    }

    @Test
    void shouldNeverSendALocalDomainToTheSmarthostOrByMx() {
        Router ruleSetSmarthost = Router.of(rules("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "smarthost":{"nextHop":"smarthost.example:587","tls":"verify"}}"""), CONFIGURED, "opportunistic");
        Router configuredSmarthost = Router.of(rules("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"]}"""),
                new Router(Map.of(), Optional.of("smarthost.example:587"), "required"), "opportunistic");

        for (Router router : List.of(ruleSetSmarthost, configuredSmarthost)) {
            assertThat(router.route("example.test").kind()).isEqualTo(Route.Kind.LOCAL);
            assertThat(router.route("remote.example").kind()).isEqualTo(Route.Kind.SMARTHOST);
        }
    }

    @Test
    void shouldLetAnExplicitRouteOfTheRuleSetWinOverLocal() {
        Router router = Router.of(rules("""
                {"version":1,"localDomains":["example.test","corp.example"],"relayRoles":["smtp-relay"],
                 "routes":[{"domain":"example.test","nextHop":"mailstore.example:2525","tls":"required"},
                           {"domain":"*.example","nextHop":"gw.example:25"}]}"""), CONFIGURED, "opportunistic");

        assertThat(router.route("example.test"))
                .isEqualTo(new Route("example.test", Route.Kind.STATIC, "mailstore.example", 2525, "required"));
        assertThat(router.route("corp.example")).as("a wildcard route naming the domain is explicit too")
                .isEqualTo(new Route("corp.example", Route.Kind.STATIC, "gw.example", 25, "opportunistic"));
    }

    @Test
    void shouldPassTheCredentialNameOnAndDemandTls() {
        Router router = Router.of(rules("""
                {"version":1,"relayRoles":["smtp-relay"],
                 "routes":[{"domain":"partner.example","nextHop":"in.partner.example:587","tls":"verify","auth":"partner"}],
                 "smarthost":{"nextHop":"smtp.provider.example:587","auth":"provider"}}"""), CONFIGURED, "opportunistic");

        assertThat(router.route("partner.example")).isEqualTo(new Route("partner.example", Route.Kind.STATIC,
                "in.partner.example", 587, "verify", "partner"));
        assertThat(router.route("remote.example")).as("the default policy is raised: a credential needs TLS")
                .isEqualTo(new Route("remote.example", Route.Kind.SMARTHOST, "smtp.provider.example", 587,
                        "required", "provider"));
    }

    @Test
    void shouldLetAnExplicitConfiguredRouteWinOverLocalWhenTheRuleSetHasNone() {
        Router configured = new Router(Map.of("example.test", "mailstore.example:2525"), Optional.empty(),
                "required");
        Router router = Router.of(rules("""
                {"version":1,"localDomains":["example.test","other.test"],"relayRoles":["smtp-relay"]}"""),
                configured, "opportunistic");

        assertThat(router.route("example.test"))
                .isEqualTo(new Route("example.test", Route.Kind.STATIC, "mailstore.example", 2525, "required"));
        assertThat(router.route("other.test")).isEqualTo(Route.local("other.test"));
    }

    @Test
    void shouldNeverProduceAnMxRouteForAnyLocalDomain() {
        RuleSet set = rules("""
                {"version":1,"localDomains":["a.test","b.test","c.test"],"relayRoles":["smtp-relay"],
                 "routes":[{"domain":"partner.example","nextHop":"mx.partner.example:25"}]}""");
        Router router = Router.of(set, CONFIGURED, "opportunistic");
        for (String local : set.localDomains()) {
            assertThat(router.route(local).kind()).as(local).isNotEqualTo(Route.Kind.MX);
            assertThat(router.route(local.toUpperCase()).kind()).as(local).isNotEqualTo(Route.Kind.MX);
        }
    }

    @Test
    void shouldGiveEveryLocalDomainItsOwnHopKey() {
        assertThat(Route.local("example.test").hopKey()).isEqualTo("local:example.test");
        assertThat(Route.local("example.test").hopKey()).isNotEqualTo(Route.mx("example.test").hopKey());
    }

    @Test
    void shouldRouteTheDiscardDomainToTheBuiltInDiscardRouteWhateverTheRoutesSay() {
        Router router = new Router(Map.of(Route.DISCARD_DOMAIN, "gw.example:25", "*.invalid", "gw.example:25"),
                Optional.of("smarthost.example:587"), "required");

        assertThat(router.route("Discard.Relay.INVALID")).isEqualTo(Route.discard(Route.DISCARD_DOMAIN));
        assertThat(router.route(Route.DISCARD_DOMAIN).hopKey()).isEqualTo("discard:discard.relay.invalid");
        assertThat(router.route("other.invalid").kind()).as("only the one built-in domain")
                .isEqualTo(Route.Kind.STATIC);
    }
}
