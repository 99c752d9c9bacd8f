package dev.relay.common.rules;

import dev.relay.common.envelope.Identity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The rule set's DKIM signing rules: what the validator refuses, which rule applies to whom, the JSON form. */
class DkimRulesTest {

    private static final String VALID = """
            {"version":1,"localDomains":["example.test"],"dkim":[
              {"domain":"example.test","selectors":["rsa2026","ed2026"]},
              {"domain":"apps.example","subdomains":true,"selector":"s1.apps","role":"apps",
               "headers":["From","To","Subject","X-App"],"canonicalization":"simple/simple","expire":"7d"},
              {"domain":"partner.example","selector":"p1","group":"/partners"}]}""";

    private static final Identity APP = new Identity("app", "s", null, List.of("apps"), List.of(), List.of());
    private static final Identity PARTNER = new Identity("p", "s", null, List.of(), List.of("/partners"), List.of());

    private static String problems(String dkim) {
        return RuleSetValidator.validate(RuleSetCodec.parse("{\"version\":1,\"dkim\":" + dkim + "}")).toString();
    }

    @Test
    void shouldAcceptValidRulesAndKeepThemThroughTheCodec() {
        RuleSet set = RuleSetCodec.parseValid(VALID.getBytes());
        assertThat(set.dkim()).hasSize(3);
        assertThat(set.dkim().get(0).allSelectors()).containsExactly("rsa2026", "ed2026");
        assertThat(RuleSetCodec.parse(RuleSetCodec.encode(set))).isEqualTo(set);
        // a rule set without dkim writes no dkim field (older readers refuse unknown fields)
        assertThat(new String(RuleSetCodec.encode(set.withDkim(List.of())))).doesNotContain("dkim");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "[{\"selector\":\"s\"}]                                            | dkim[0].domain: a domain is required",
            "[{\"domain\":\"bad domain\",\"selector\":\"s\"}]                  | dkim[0].domain: not a domain",
            "[{\"domain\":\"example.test\"}]                                   | dkim[0].selector: a selector is required",
            "[{\"domain\":\"example.test\",\"selector\":\"../../etc/x\"}]      | dkim[0].selector: not a selector",
            "[{\"domain\":\"example.test\",\"selector\":\"a/b\"}]              | dkim[0].selector: not a selector",
            "[{\"domain\":\"example.test\",\"selector\":\"-a\"}]               | dkim[0].selector: not a selector",
            "[{\"domain\":\"example.test\",\"selector\":\"a\",\"selectors\":[\"b\"]}] | dkim[0].selectors: name either selector or selectors, not both",
            "[{\"domain\":\"example.test\",\"selectors\":[]}]                  | dkim[0].selectors: one or two selectors",
            "[{\"domain\":\"example.test\",\"selectors\":[\"a\",\"b\",\"c\"]}] | dkim[0].selectors: one or two selectors",
            "[{\"domain\":\"example.test\",\"selectors\":[\"a\",\"A\"]}]       | dkim[0].selectors[1]: duplicate selector A",
            "[{\"domain\":\"example.test\",\"selector\":\"s\",\"role\":\"a\",\"group\":\"/g\"}] | dkim[0].group: a signing rule names at most one role or one group",
            "[{\"domain\":\"example.test\",\"selector\":\"s\",\"headers\":[\"To\"]}] | dkim[0].headers: must contain From",
            "[{\"domain\":\"example.test\",\"selector\":\"s\",\"headers\":[\"From\",\"DKIM-Signature\"]}] | dkim[0].headers[1]: DKIM-Signature must not be signed",
            "[{\"domain\":\"example.test\",\"selector\":\"s\",\"headers\":[\"From\",\"X Y\"]}] | dkim[0].headers[1]: not a header name",
            "[{\"domain\":\"example.test\",\"selector\":\"s\",\"canonicalization\":\"relaxed\"}] | dkim[0].canonicalization: must be one of",
            "[{\"domain\":\"example.test\",\"selector\":\"s\",\"expire\":\"7 days\"}] | dkim[0].expire: a duration such as 7d",
            "[{\"domain\":\"example.test\",\"selector\":\"s\",\"expire\":\"0d\"}] | dkim[0].expire: a duration such as 7d",
            "[null]                                                            | dkim[0]: must not be null",
    })
    void shouldNameRuleAndFieldOfEveryMistake(String dkim, String expected) {
        assertThat(problems(dkim)).contains(expected);
    }

    @Test
    void shouldRefuseAMisspeltField() {
        assertThatThrownBy(() -> RuleSetCodec.parse("{\"version\":1,\"dkim\":[{\"domain\":\"a.test\",\"selecter\":\"s\"}]}"))
                .isInstanceOf(RuleSetException.class).hasMessageContaining("dkim[0].selecter");
    }

    @Test
    void shouldMatchTheFirstRuleForTheFromDomainAndIdentity() {
        List<RuleSet.DkimRule> rules = RuleSetCodec.parseValid(VALID.getBytes()).dkim();

        assertThat(DkimRules.match(rules, null, true, "example.test")).get()
                .extracting(DkimRules.Applied::rule).isEqualTo("dkim[0]");
        assertThat(DkimRules.match(rules, null, true, "sub.example.test")).isEmpty(); // no subdomains: true
        assertThat(DkimRules.match(rules, APP, true, "mail.apps.example")).get()
                .extracting(DkimRules.Applied::rule).isEqualTo("dkim[1]");
        assertThat(DkimRules.match(rules, APP, true, "apps.example")).isPresent();
        assertThat(DkimRules.match(rules, PARTNER, true, "apps.example")).isEmpty(); // role apps only
        assertThat(DkimRules.match(rules, null, true, "apps.example")).isEmpty();
        assertThat(DkimRules.match(rules, PARTNER, true, "partner.example")).isPresent();
        assertThat(DkimRules.match(rules, APP, true, "partner.example")).isEmpty();
        assertThat(DkimRules.match(rules, APP, true, "notapps.example")).isEmpty();
        // mail nobody vouches for (received as an MX) is never signed
        assertThat(DkimRules.match(rules, null, false, "example.test")).isEmpty();
    }

    @Test
    void shouldReadDurations() {
        assertThat(DkimRules.duration("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(DkimRules.duration("15m")).isEqualTo(Duration.ofMinutes(15));
        assertThat(DkimRules.duration("12h")).isEqualTo(Duration.ofHours(12));
        assertThat(DkimRules.duration("7d")).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void shouldSeedOneRulePerLocalDomainWhenTheConfigurationNamesASelector() {
        assertThat(seed("none").ruleSet().dkim()).isEmpty();
        List<RuleSet.DkimRule> seeded = seed("relay").ruleSet().dkim();
        assertThat(seeded).extracting(RuleSet.DkimRule::domain).containsExactly("example.test", "other.test");
        assertThat(seeded).allSatisfy(r -> assertThat(r.allSelectors()).containsExactly("relay"));
    }

    private static RelayRules seed(String selector) {
        return new RulesConfig() {
            public List<String> localDomains() {
                return List.of("example.test", "other.test");
            }

            public List<String> trustedNetworks() {
                return List.of("none");
            }

            public List<String> relayRoles() {
                return List.of("smtp-relay");
            }

            public List<String> localRecipients() {
                return List.of("none");
            }

            public List<String> catchAllDomains() {
                return List.of("none");
            }

            public String dkimSelector() {
                return selector;
            }

            public String topic() {
                return "t";
            }
        }.toRules();
    }
}
