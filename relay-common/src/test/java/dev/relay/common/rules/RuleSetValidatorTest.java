package dev.relay.common.rules;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RuleSetValidatorTest {

    private static String problems(String json) {
        return RuleSetValidator.validate(RuleSetCodec.parse(json)).toString();
    }

    @Test
    void shouldAcceptTheEngineTestRules() {
        assertThat(RuleSetValidator.validate(RuleSetCodec.parse(RuleSetEngineTest.RULES))).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{\"version\":2}                                                          | version: must be 1",
            "{\"version\":1,\"routes\":[{\"domain\":\"a.example\",\"nextHop\":\"h:1\"},{\"domain\":\"b.example\",\"nextHop\":\"h:2\"},{\"domain\":\"c.example\",\"nextHop\":\"h:70000\"}]} | routes[2].nextHop: port must be 1..65535",
            "{\"version\":1,\"routes\":[{\"domain\":\"a.example\",\"nextHop\":\"h:25\",\"tls\":\"maybe\"}]} | routes[0].tls: must be one of",
            "{\"version\":1,\"routes\":[{\"domain\":\"*.a.example\"},{\"domain\":\"*.A.example\",\"nextHop\":\"h\"}]} | routes[0].nextHop: host:port is required",
            "{\"version\":1,\"routes\":[{\"domain\":\"a..example\",\"nextHop\":\"h\"}]} | routes[0].domain: not a domain",
            "{\"version\":1,\"trustedNetworks\":[\"10.0.0.0/8\",\"0.0.0.0/0\"]}       | trustedNetworks[1]: a /0 network would make Relay an open relay",
            "{\"version\":1,\"trustedNetworks\":[\"example.com\"]}                    | trustedNetworks[0]: not an IP network",
            "{\"version\":1,\"trustedNetworks\":[\"10.0.0.0/8\",\"0.0.0.0/1\"]}       | trustedNetworks[1]: /1 is too wide to trust: at most /8 for IPv4",
            "{\"version\":1,\"trustedNetworks\":[\"128.0.0.0/7\"]}                    | trustedNetworks[0]: /7 is too wide to trust",
            "{\"version\":1,\"trustedNetworks\":[\"2000::/3\"]}                       | trustedNetworks[0]: /3 is too wide to trust: at most /32 for IPv6",
            "{\"version\":1,\"trustedNetworks\":[\"2001:db8::/31\"]}                  | trustedNetworks[0]: /31 is too wide to trust",
            "{\"version\":1,\"localDomains\":[\"\"]}                                  | localDomains[0]: must not be empty",
            "{\"version\":1,\"grants\":[{\"senders\":[\"@a.example\"]}]}              | grants[0].role: a grant names exactly one role or one group",
            "{\"version\":1,\"grants\":[{\"role\":\"r\",\"senders\":[\"a b@x.example\"]}]} | grants[0].senders[0]: not an address",
            "{\"version\":1,\"grants\":[{\"group\":\"/g\",\"limits\":{\"maxRecipients\":0}}]} | grants[0].limits.maxRecipients: must be at least 1",
            "{\"version\":1,\"recipients\":{\"deny\":[\"@bad_domain!\"]}}             | recipients.deny[0]: not a domain",
            "{\"version\":1,\"smarthost\":{\"nextHop\":\"relay.example:0\"}}          | smarthost.nextHop: port must be 1..65535",
            "{\"version\":1,\"smarthost\":{\"nextHop\":\"relay.example:587\",\"auth\":\"Bad Name\"}} | smarthost.auth: must be a credential name",
            "{\"version\":1,\"routes\":[{\"domain\":\"a.example\",\"nextHop\":\"h:25\",\"tls\":\"none\",\"auth\":\"p\"}]} | routes[0].auth: needs TLS",
            "{\"version\":1,\"routes\":[{\"domain\":\"a.example\",\"nextHop\":\"h:25\",\"auth\":\"\"}]} | routes[0].auth: must be a credential name",
            "{\"version\":1,\"localDomains\":[\"a.example\"],\"localRecipients\":[{\"domain\":\"b.example\",\"catchAll\":true}]} | localRecipients[0].domain: b.example is not in localDomains",
            "{\"version\":1,\"localDomains\":[\"a.example\"],\"localRecipients\":[{\"domain\":\"a.example\",\"catchAll\":true},{\"domain\":\"A.example\",\"mailboxes\":[\"x\"]}]} | localRecipients[1].domain: duplicate recipient source for a.example",
            "{\"version\":1,\"localDomains\":[\"a.example\"],\"localRecipients\":[{\"domain\":\"a.example\"}]} | localRecipients[0].mailboxes: list the mailboxes of the domain, or set \"catchAll\": true",
            "{\"version\":1,\"localDomains\":[\"a.example\"],\"localRecipients\":[{\"domain\":\"a.example\",\"catchAll\":true,\"mailboxes\":[\"x\"]}]} | localRecipients[0].catchAll: catchAll accepts every mailbox",
            "{\"version\":1,\"localDomains\":[\"a.example\"],\"localRecipients\":[{\"domain\":\"a.example\",\"mailboxes\":[\"ok\",\"x@a.example\"]}]} | localRecipients[0].mailboxes[1]: a mailbox is a local part without @domain",
            "{\"version\":1,\"localDomains\":[\"a.example\"],\"localRecipients\":[{\"domain\":\"a.example\",\"mailboxes\":[\"u%v\"]}]} | localRecipients[0].mailboxes[0]: not a mailbox",
            "{\"version\":1,\"localDomains\":[\"a.example\"],\"localRecipients\":[{\"domain\":\"a.example\",\"mailboxes\":[\"x\"],\"delimiter\":\"@\"}]} | localRecipients[0].delimiter: one of the characters",
    })
    void shouldNameTheRuleAndFieldOfEachProblem(String json, String expected) {
        assertThat(problems(json)).contains(expected);
    }

    @Test
    void shouldAcceptCredentialNamesOnRoutesAndTheSmarthostWithoutRepeatingABadOne() {
        RuleSet set = RuleSetCodec.parse("{\"version\":1,\"routes\":[{\"domain\":\"a.example\",\"nextHop\":\"h:587\","
                + "\"tls\":\"verify\",\"auth\":\"partner-a\"}],\"smarthost\":{\"nextHop\":\"s:587\",\"auth\":\"provider\"}}");
        assertThat(RuleSetValidator.validate(set)).isEmpty();
        assertThat(set.routes().get(0).auth()).isEqualTo("partner-a");
        assertThat(set.smarthost().auth()).isEqualTo("provider");
        assertThat(problems("{\"version\":1,\"smarthost\":{\"nextHop\":\"s:587\",\"auth\":\"hunter2 pasted\"}}"))
                .doesNotContain("hunter2");
    }

    @Test
    void shouldAcceptTrustedNetworksUpToTheBound() {
        assertThat(problems("{\"version\":1,\"trustedNetworks\":[\"10.0.0.0/8\",\"2001:db8::/32\",\"127.0.0.1\"]}"))
                .isEqualTo("[]");
    }

    @Test
    void shouldRefuseATooWideSeedAtConfigLoad() {
        assertThatThrownBy(() -> RelayRules.of(java.util.List.of("example.test"), java.util.List.of("0.0.0.0/1"),
                java.util.List.of()))
                .isInstanceOfSatisfying(RuleSetException.class, e -> assertThat(e.problems().toString())
                        .contains("trustedNetworks[0]: /1 is too wide to trust"));
    }

    @Test
    void shouldNameTheFieldOfAJsonTypeError() {
        assertThatThrownBy(() -> RuleSetCodec.parse("{\"version\":1,\"routes\":[{\"domain\":\"a\"},{\"domian\":\"b\"}]}"))
                .isInstanceOfSatisfying(RuleSetException.class, e -> assertThat(e.problems().get(0).path())
                        .isEqualTo("routes[1].domian"));
        assertThatThrownBy(() -> RuleSetCodec.parse("{\"version\":1,\"limits\":{\"maxRecipients\":\"many\"}}"))
                .isInstanceOfSatisfying(RuleSetException.class, e -> assertThat(e.problems().get(0).path())
                        .isEqualTo("limits.maxRecipients"));
        assertThatThrownBy(() -> RuleSetCodec.parse("{not json")).isInstanceOf(RuleSetException.class);
    }
}
