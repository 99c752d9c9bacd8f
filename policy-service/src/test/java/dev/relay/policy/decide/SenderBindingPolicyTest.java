package dev.relay.policy.decide;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RelayRules;
import dev.relay.common.rules.RuleSetCodec;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The authoritative sender binding (issue 12, item 3): whatever the ingress let through, the policy refuses an
 * authenticated null sender and a header From: the identity does not own, unless a grant of the rule set allows it.
 */
class SenderBindingPolicyTest {

    private final PolicyEngine engine = new PolicyEngine(RelayRules.from(RuleSetCodec.parse("""
            {"version": 1, "localDomains": ["example.test"], "relayRoles": ["smtp-relay"],
             "grants": [ {"role": "lists", "headerFrom": "free", "nullSender": true} ]}""")),
            new Router(Map.of(), Optional.empty(), "opportunistic"));

    private static Identity user(String... roles) {
        return new Identity("demo", "s", "demo@example.test", List.of(roles), List.of(), List.of());
    }

    private static Envelope envelope(Identity identity, String mailFrom) {
        return new Envelope(Envelope.VERSION, "ID1", 0, "192.0.2.1", "helo", "submission", true, identity, mailFrom,
                List.of("a@remote.example"), false, "7BIT", 10, null, 0);
    }

    private static byte[] message(String from) {
        return ("From: " + from + "\r\nSubject: s\r\n\r\nbody\r\n").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldRefuseAHeaderFromTheIdentityDoesNotOwn() {
        PolicyDecision d = engine.decide(envelope(user("smtp-relay"), "demo@example.test"),
                message("CEO <ceo@example.test>"));
        assertThat(d.hops()).isEmpty();
        assertThat(d.refused()).extracting(PolicyDecision.Refusal::rule).containsExactly("header-from-not-owned");
        assertThat(engine.decide(envelope(user("smtp-relay"), "demo@example.test"), message("<demo@example.test>"))
                .refused()).isEmpty();
    }

    @Test
    void shouldRefuseTheNullSenderOfAnAuthenticatedIdentity() {
        PolicyDecision d = engine.decide(envelope(user("smtp-relay"), ""), message("demo@example.test"));
        assertThat(d.refused()).extracting(PolicyDecision.Refusal::rule).containsExactly("null-sender-not-allowed");
    }

    @Test
    void shouldFollowAGrantThatFreesTheHeaderFromAndAllowsTheNullSender() {
        PolicyDecision d = engine.decide(envelope(user("lists", "smtp-relay"), ""), message("someone@else.example"));
        assertThat(d.refused()).isEmpty();
        assertThat(d.hops()).hasSize(1);
    }
}
