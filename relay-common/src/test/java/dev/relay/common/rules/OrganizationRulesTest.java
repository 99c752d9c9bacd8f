package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keycloak organisations in the rule set: members send as their organisation's verified domains, and grants, rate
 * limits and DKIM rules can name an organisation (by alias) as they name a role or a group.
 */
class OrganizationRulesTest {

    private static final String RULES = """
            {"version": 1, "localDomains": ["example.test"], "relayRoles": ["smtp-relay"],
             "grants": [ {"organization": "demo-team", "senders": ["@partner-of-team.example.test"],
                          "headerFrom": "free"} ],
             "rateLimits": [ {"name": "team", "per": "identity", "organizations": ["demo-team"],
                              "messages": {"hour": 5}} ],
             "dkim": [ {"domain": "team.example.test", "selector": "team1", "organization": "demo-team"},
                       {"domain": "team.example.test", "selector": "fallback", "role": "nobody"} ]}
            """;

    private final RelayRules rules = RelayRules.from(RuleSetCodec.parse(RULES));

    private static Identity member() {
        return new Identity("team-member", "sub-t", null, List.of("smtp-relay"), List.of(), List.of(), null,
                Map.of("demo-team", List.of("team.example.test")));
    }

    private static Identity outsider() {
        return new Identity("demo", "sub-d", "demo@example.test", List.of("smtp-relay"), List.of(), List.of());
    }

    @Test
    void shouldLetAMemberSendAsItsOrganisationsVerifiedDomainsOnly() {
        assertThat(rules.sender(member(), new MailAddress("anyone", "TEAM.example.test")).allowed()).isTrue();
        assertThat(rules.sender(member(), new MailAddress("x", "other.example.test")).rule())
                .isEqualTo("sender-not-owned");
        assertThat(rules.sender(outsider(), new MailAddress("x", "team.example.test")).allowed()).isFalse();
        assertThat(SenderPolicy.owns(member(), new MailAddress("a", "sub.team.example.test"))).isFalse();
    }

    @Test
    void shouldSelectGrantsByOrganisation() {
        assertThat(rules.sender(member(), new MailAddress("a", "partner-of-team.example.test")).rule())
                .isEqualTo("grants[0].senders[0]");
        assertThat(rules.sender(outsider(), new MailAddress("a", "partner-of-team.example.test")).allowed()).isFalse();
        assertThat(rules.headerFromBound(member())).isFalse();
        assertThat(rules.headerFromBound(outsider())).isTrue();
    }

    @Test
    void shouldLimitTheMembersOfAnOrganisation() {
        Instant now = Instant.parse("2026-11-29T12:00:30Z");
        Subject memberSubject = Subject.of(member(), "a@team.example.test", "192.0.2.1");
        assertThat(rules.rateLimits().applicable(memberSubject)).containsExactly("team");
        assertThat(rules.rateLimits().applicable(Subject.of(outsider(), "demo@example.test", "192.0.2.1"))).isEmpty();
        Usage used = slot -> slot.window() == Window.HOUR ? new Count(5, 5) : Count.ZERO;
        assertThat(rules.rateLimits().admit(memberSubject, used, now, 1, 1)).isPresent();
    }

    @Test
    void shouldPickTheOrganisationsDkimRule() {
        assertThat(DkimRules.match(rules.ruleSet().dkim(), member(), true, "team.example.test"))
                .map(DkimRules.Applied::rule).contains("dkim[0]");
        assertThat(DkimRules.match(rules.ruleSet().dkim(), outsider(), true, "team.example.test")).isEmpty();
    }

    @Test
    void shouldKeepOrganisationsThroughTheCodecAndValidate() {
        RuleSet set = RuleSetCodec.parse(RULES);
        assertThat(RuleSetValidator.validate(set)).isEmpty();
        String json = new String(RuleSetCodec.encode(set), StandardCharsets.UTF_8);
        assertThat(json).contains("\"organization\":\"demo-team\"").contains("\"organizations\":[\"demo-team\"]");
        assertThat(RuleSetCodec.parse(json)).isEqualTo(set);
    }

    @Test
    void shouldNameAnOrganisationNextToARoleOrABlankOrganisation() {
        RuleSet set = RuleSetCodec.parse("""
                {"version": 1,
                 "grants": [ {"role": "apps", "organization": "demo-team"} ],
                 "rateLimits": [ {"name": "t", "per": "identity", "organizations": [" demo-team"],
                                  "messages": {"hour": 1}} ],
                 "dkim": [ {"domain": "team.example.test", "selector": "s", "group": "/g",
                            "organization": "demo-team"} ]}""");
        assertThat(RuleSetValidator.validate(set)).contains(
                new RuleProblem("grants[0].organization",
                        "a grant names exactly one role, one group or one organization"),
                new RuleProblem("rateLimits[0].organizations[0]",
                        "must be a non-empty name without surrounding spaces"),
                new RuleProblem("dkim[0].organization",
                        "a signing rule names at most one role, one group or one organization"));
    }
}
