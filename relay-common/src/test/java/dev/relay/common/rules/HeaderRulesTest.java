package dev.relay.common.rules;

import dev.relay.common.envelope.Identity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The rule set's header hygiene: what the validator refuses, and which rules apply to whom. */
class HeaderRulesTest {

    private static final String VALID = """
            {"version":1,"headers":[
              {"strip":["X-Originating-IP","User-Agent"]},
              {"role":"apps","add":[{"name":"X-Relay-Class","value":"bulk mail"}]},
              {"group":"/mail-senders","strip":["X-Mailer"],"add":[{"name":"X-Sent-Via","value":"relay"}]}]}""";

    private static String problems(String headers) {
        return RuleSetValidator.validate(RuleSetCodec.parse("{\"version\":1,\"headers\":" + headers + "}"))
                .toString();
    }

    @Test
    void shouldAcceptStrippingAndAddingHarmlessFields() {
        assertThat(RuleSetValidator.validate(RuleSetCodec.parse(VALID))).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "[{\"strip\":[\"Received\"]}]                                   | headers[0].strip[0]: Received must not be stripped",
            "[{\"strip\":[\"X-A\",\"from\"]}]                               | headers[0].strip[1]: from must not be stripped",
            "[{\"strip\":[\"Date\"]}]                                       | headers[0].strip[0]: Date must not be stripped",
            "[{\"strip\":[\"Message-ID\"]}]                                 | headers[0].strip[0]: Message-ID must not be stripped",
            "[{\"strip\":[\"Content-Type\"]}]                               | headers[0].strip[0]: Content-Type must not be stripped",
            "[{\"strip\":[\"X Bad\"]}]                                      | headers[0].strip[0]: not a header name",
            "[{\"strip\":[\"X-Bad:\"]}]                                     | headers[0].strip[0]: not a header name",
            "[{\"strip\":[\"\"]}]                                           | headers[0].strip[0]: a header name is required",
            "[{\"add\":[{\"name\":\"X-Ok\",\"value\":\"a\\r\\nBcc: victim@example.org\"}]}] | headers[0].add[0].value: only printable ASCII",
            "[{\"add\":[{\"name\":\"X-Ok\",\"value\":\"a\\nb\"}]}]          | headers[0].add[0].value: only printable ASCII",
            "[{\"add\":[{\"name\":\"X-Ok\",\"value\":\"\"}]}]               | headers[0].add[0].value: a value is required",
            "[{\"add\":[{\"name\":\"X-Ok\"}]}]                              | headers[0].add[0].value: a value is required",
            "[{\"add\":[{\"name\":\"X-Ok\\r\\nBcc\",\"value\":\"v\"}]}]     | headers[0].add[0].name: not a header name (printable ASCII without spaces or ':', at most 76): X-Ok\\x0d\\x0aBcc",
            "[{\"add\":[{\"name\":\"Received\",\"value\":\"from x\"}]}]     | headers[0].add[0].name: Received must not be added",
            "[{\"add\":[{\"name\":\"DKIM-Signature\",\"value\":\"v=1\"}]}]  | headers[0].add[0].name: DKIM-Signature must not be added",
            "[{\"add\":[{\"name\":\"Subject\",\"value\":\"hi\"}]}]          | headers[0].add[0].name: Subject must not be added",
            "[{\"role\":\"a\",\"group\":\"/g\",\"strip\":[\"X-A\"]}]        | headers[0].group: a header rule names at most one role or one group",
            "[{\"role\":\" a\",\"strip\":[\"X-A\"]}]                        | headers[0].role: must not be empty",
            "[{\"role\":\"a\"}]                                             | headers[0]: names no header to strip or add",
            "[{\"strip\":[\"X-A\"]},{\"strip\":[\"X-B\"],\"add\":[{\"name\":\"X-C\",\"value\":\" padded\"}]}] | headers[1].add[0].value: must not start or end with white space",
    })
    void shouldRefuseDangerousOrMalformedEditsNamingRuleAndField(String headers, String expected) {
        assertThat(problems(headers)).contains(expected);
    }

    @Test
    void shouldRefuseAnUnknownFieldInAHeaderRule() {
        assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(
                () -> RuleSetCodec.parse("{\"version\":1,\"headers\":[{\"remove\":[\"X-A\"]}]}"),
                RuleSetException.class).problems().toString()).contains("headers[0]").contains("remove");
    }

    @Test
    void shouldApplyGlobalRulesToEveryAuthenticatedIdentityAndScopedOnesToHolders() {
        RelayRules rules = RelayRules.from(RuleSetCodec.parse(VALID));
        Identity app = new Identity("app", "s", "app@example.test", List.of("apps"), List.of(), List.of());
        Identity person = new Identity("demo", "s", "demo@example.test", List.of(), List.of("/mail-senders"),
                List.of());
        assertThat(rules.headerRules(app)).extracting(RelayRules.AppliedHeaderRule::rule)
                .containsExactly("headers[0]", "headers[1]");
        assertThat(rules.headerRules(person)).extracting(RelayRules.AppliedHeaderRule::rule)
                .containsExactly("headers[0]", "headers[2]");
        assertThat(rules.headerRules(null)).isEmpty();
    }

    @Test
    void shouldLeaveAnEmptyHeaderListOutOfTheStoredDocument() {
        // followers of an older version refuse unknown fields: a rule set without header rules must not name them
        String json = new String(RuleSetCodec.encode(RuleSetCodec.parse("{\"version\":1}")));
        assertThat(json).doesNotContain("headers");
        assertThat(new String(RuleSetCodec.encode(RuleSetCodec.parse(VALID)))).contains("\"headers\":[{\"strip\"");
    }
}
