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
            "{\"version\":1,\"localDomains\":[\"\"]}                                  | localDomains[0]: must not be empty",
            "{\"version\":1,\"grants\":[{\"senders\":[\"@a.example\"]}]}              | grants[0].role: a grant names exactly one role or one group",
            "{\"version\":1,\"grants\":[{\"role\":\"r\",\"senders\":[\"a b@x.example\"]}]} | grants[0].senders[0]: not an address",
            "{\"version\":1,\"grants\":[{\"group\":\"/g\",\"limits\":{\"maxRecipients\":0}}]} | grants[0].limits.maxRecipients: must be at least 1",
            "{\"version\":1,\"recipients\":{\"deny\":[\"@bad_domain!\"]}}             | recipients.deny[0]: not a domain",
            "{\"version\":1,\"smarthost\":{\"nextHop\":\"relay.example:0\"}}          | smarthost.nextHop: port must be 1..65535",
    })
    void shouldNameTheRuleAndFieldOfEachProblem(String json, String expected) {
        assertThat(problems(json)).contains(expected);
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
