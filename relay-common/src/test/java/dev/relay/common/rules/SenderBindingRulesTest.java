package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Sender binding beyond MAIL FROM: the null sender and the header From:, per grant, strict by default. */
class SenderBindingRulesTest {

    private static final String RULES = """
            {"version": 1, "localDomains": ["example.test"], "relayRoles": ["smtp-relay"],
             "grants": [ {"role": "lists", "headerFrom": "free"},
                         {"role": "bouncer", "nullSender": true, "headerFrom": "bound"} ]}
            """;

    private final RelayRules rules = RelayRules.from(RuleSetCodec.parse(RULES));

    private static Identity user(String... roles) {
        return new Identity("demo", "sub-1", "demo@example.test", List.of(roles), List.of(),
                List.of("@apps.example.test"));
    }

    @Test
    void shouldRefuseTheNullSenderToAnAuthenticatedIdentityUnlessAGrantAllowsIt() {
        assertThat(rules.nullSender(user("smtp-relay"))).isEqualTo(new RelayDecision.Deny("null-sender-not-allowed",
                "an authenticated identity may not use the null sender <>"));
        assertThat(rules.nullSender(user("bouncer")).rule()).isEqualTo("grants[1].nullSender");
        assertThat(rules.nullSender(null).allowed()).isTrue();
    }

    @Test
    void shouldBindTheHeaderFromByDefaultAndFreeItOnlyForAGrantThatSaysSo() {
        MailAddress own = new MailAddress("demo", "example.test");
        MailAddress app = new MailAddress("x", "apps.example.test");
        MailAddress ceo = new MailAddress("ceo", "example.test");
        assertThat(rules.headerFrom(user("smtp-relay"), List.of(own, app)).allowed()).isTrue();
        assertThat(rules.headerFrom(user("smtp-relay"), List.of(own, ceo)).rule()).isEqualTo("header-from-not-owned");
        assertThat(rules.headerFrom(user("bouncer"), List.of(ceo)).allowed()).isFalse();
        assertThat(rules.headerFrom(user("lists"), List.of(ceo)).rule()).isEqualTo("headerFrom-free");
        assertThat(rules.headerFromBound(null)).isFalse();
    }

    @Test
    void shouldRefuseAnUnknownHeaderFromSetting() {
        RuleSet set = RuleSetCodec.parse("""
                {"version": 1, "grants": [ {"role": "x", "headerFrom": "loose"} ]}""");
        assertThat(RuleSetValidator.validate(set)).containsExactly(
                new RuleProblem("grants[0].headerFrom", "must be \"bound\" or \"free\""));
    }

    @Test
    void shouldKeepTheSettingsThroughTheCodec() {
        RuleSet set = RuleSetCodec.parse(RULES);
        String json = new String(RuleSetCodec.encode(set), StandardCharsets.UTF_8);
        assertThat(json).contains("\"headerFrom\":\"free\"").contains("\"nullSender\":true");
        assertThat(RuleSetCodec.parse(json)).isEqualTo(set);
        assertThat(set.grants().get(0).nullSender()).isNull();
    }
}
