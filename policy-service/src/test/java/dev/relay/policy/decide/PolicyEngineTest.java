package dev.relay.policy.decide;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Identity;
import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RelayRules;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class PolicyEngineTest {

    private final PolicyEngine engine = new PolicyEngine(
            RelayRules.of(List.of("example.test"), List.of("10.0.0.0/8"), List.of("smtp-relay")),
            new Router(Map.of("partner.example", "mx.partner.internal:2525", "*.corp.example", "gw.corp:25"),
                    Optional.empty(), "required"));

    private static Envelope envelope(Identity identity, String client, String... recipients) {
        return new Envelope(Envelope.VERSION, "ID1", 0, client, "helo", "submission", true, identity,
                "demo@example.test", List.of(recipients), false, "7BIT", 10, null, 0);
    }

    private static final Identity RELAYER = new Identity("demo", "s", "demo@example.test", List.of("smtp-relay"),
            List.of(), List.of());

    @Test
    void shouldGroupRecipientsByNextHop() {
        PolicyDecision d = engine.decide(envelope(RELAYER, "192.0.2.1", "a@partner.example", "b@gmail.example",
                "c@PARTNER.example", "d@x.corp.example"));
        assertThat(d.refused()).isEmpty();
        assertThat(d.hops()).containsEntry(new Route("partner.example", Route.Kind.STATIC, "mx.partner.internal",
                2525, "required"), List.of("a@partner.example", "c@PARTNER.example"));
        assertThat(d.hops()).containsEntry(Route.mx("gmail.example"), List.of("b@gmail.example"));
        assertThat(d.hops()).containsEntry(new Route("x.corp.example", Route.Kind.STATIC, "gw.corp", 25, "required"),
                List.of("d@x.corp.example"));
    }

    @Test
    void shouldRefuseRelayForUnauthenticatedOutsiders() {
        PolicyDecision d = engine.decide(envelope(null, "192.0.2.1", "victim@remote.example", "postmaster@example.test"));
        assertThat(d.refused()).extracting(PolicyDecision.Refusal::recipient).containsExactly("victim@remote.example");
        assertThat(d.rules()).containsEntry("postmaster@example.test", "localDomains[0]");
    }

    @Test
    void shouldRefuseUnknownLocalRecipientsAuthoritativelyWhoeverSends() {
        PolicyEngine validating = new PolicyEngine(RelayRules.from(dev.relay.common.rules.RuleSetCodec.parse("""
                {"version":1,"localDomains":["example.test","legacy.example.test"],"trustedNetworks":["10.0.0.0/8"],
                 "relayRoles":["smtp-relay"],
                 "localRecipients":[{"domain":"example.test","mailboxes":["alice"]},
                                    {"domain":"legacy.example.test","catchAll":true}]}""")),
                new Router(Map.of(), Optional.empty(), "opportunistic"));
        for (Identity who : java.util.Arrays.asList(null, RELAYER)) {
            PolicyDecision d = validating.decide(envelope(who, "10.1.1.1", "nobody@example.test",
                    "alice@example.test", "anyone@legacy.example.test", "postmaster@example.test"));
            assertThat(d.refused()).containsExactly(new PolicyDecision.Refusal("nobody@example.test",
                    RelayRules.UNKNOWN_RECIPIENT, "no such user here"));
            assertThat(d.rules()).containsEntry("alice@example.test", "localRecipients[0].mailboxes[0]")
                    .containsEntry("anyone@legacy.example.test", "localRecipients[1].catchAll")
                    .containsEntry("postmaster@example.test", "localDomains[0]");
        }
    }

    @Test
    void shouldRefuseQuotedRoutingSyntaxEvenIfTheIngressLetItThrough() {
        PolicyDecision d = engine.decide(envelope(RELAYER, "10.1.1.1", "\"user%other.example\"@example.test",
                "\"other.example!user\"@example.test", "\"a@b\"@example.test"));
        assertThat(d.refused()).extracting(PolicyDecision.Refusal::rule)
                .containsExactly("address-syntax", "address-syntax", "address-syntax");
        assertThat(d.hops()).isEmpty();
    }

    @Test
    void shouldRefuseAddressTricksEvenIfTheIngressLetThemThrough() {
        PolicyDecision d = engine.decide(envelope(null, "10.1.1.1", "user%victim@example.test", "a@trusted.example"));
        assertThat(d.refused()).extracting(PolicyDecision.Refusal::rule).containsExactly("address-syntax");
        assertThat(d.rules()).containsEntry("a@trusted.example", "trustedNetworks[0]");
    }

    @Test
    void shouldCarryTheHeaderHygieneOfTheDecidingRuleSetAndReportEdits() {
        PolicyEngine hygienic = new PolicyEngine(RelayRules.from(dev.relay.common.rules.RuleSetCodec.parse("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "headers":[{"strip":["User-Agent"],"add":[{"name":"X-Sent-Via","value":"relay"}]}]}""")),
                new Router(Map.of(), Optional.empty(), "opportunistic"));
        long[] seen = new long[3];
        hygienic.observe(new PolicyEngine.Observer() {
            @Override
            public void evaluated(long nanos) {
                seen[0]++;
            }

            @Override
            public void headersEdited(int stripped, int added) {
                seen[1] += stripped;
                seen[2] += added;
            }
        });
        byte[] message = "User-Agent: x\r\nFrom: demo@example.test\r\n\r\nbody\r\n"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        PolicyDecision authenticated = hygienic.decide(envelope(RELAYER, "192.0.2.1", "a@remote.example"));
        assertThat(authenticated.headers().rules()).containsExactly("headers[0]");
        assertThat(new String(hygienic.outboundBytes(authenticated, message), java.nio.charset.StandardCharsets.US_ASCII))
                .isEqualTo("X-Sent-Via: relay\r\nFrom: demo@example.test\r\n\r\nbody\r\n");

        PolicyDecision anonymous = hygienic.decide(envelope(null, "192.0.2.1", "postmaster@example.test"));
        assertThat(anonymous.headers().isEmpty()).isTrue();
        assertThat(hygienic.outboundBytes(anonymous, message)).isSameAs(message);
        assertThat(seen).containsExactly(2, 1, 1);

        hygienic.evaluate(envelope(RELAYER, "192.0.2.1", "a@remote.example"));
        assertThat(seen[0]).as("the dry run is not counted").isEqualTo(2);
    }
}
