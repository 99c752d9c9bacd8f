package dev.relay.common.rules;

import dev.relay.common.envelope.Identity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitsTest {

    static final String RULES = """
            {"version":1,"localDomains":["example.test"],
             "rateLimits":[
               {"name":"apps","per":"identity","roles":["apps"],"messages":{"minute":2,"day":100}},
               {"name":"staff","per":"identity","groups":["/staff"],"recipients":{"hour":5}},
               {"name":"domains","per":"sender-domain","messages":{"hour":3}},
               {"name":"clients","per":"client-address","messages":{"minute":4},"recipients":{"minute":6}}]}""";

    private static final RateLimits LIMITS = RelayRules.from(RuleSetCodec.parse(RULES)).rateLimits();
    /** 12:00:30 UTC: minute bucket ends at 12:01:00, hour at 13:00. */
    private static final Instant NOW = Instant.parse("2026-11-29T12:00:30Z");

    private static Identity user(String name, List<String> roles, List<String> groups) {
        return new Identity(name, "s-" + name, name + "@example.test", roles, groups, List.of());
    }

    private static final Map<String, Identity> USERS = Map.of(
            "app", user("App", List.of("apps"), List.of()),
            "staffer", user("staffer", List.of(), List.of("staff")),
            "plain", user("plain", List.of("smtp-relay"), List.of()),
            "anonymous", user("-", List.of(), List.of()));

    /** Usage as a table: "identity:app:minute=2/0" = the identity "app" sent 2 messages and 0 recipients this minute. */
    private static Usage usage(String spec) {
        Map<Slot, Count> map = new HashMap<>();
        if (!spec.isBlank()) {
            for (String entry : spec.split(";")) {
                String[] kv = entry.trim().split("=");
                String[] slot = kv[0].split(":");
                String[] count = kv[1].split("/");
                Window window = Window.of(slot[2]);
                map.put(new Slot(Per.of(slot[0]).orElseThrow(), slot[1], window, window.bucket(NOW)),
                        new Count(Long.parseLong(count[0]), Long.parseLong(count[1])));
            }
        }
        return slot -> map.getOrDefault(slot, Count.ZERO);
    }

    @ParameterizedTest(name = "{0} {1} from {2} asking {3}/{4} with [{5}] -> {6}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            // who      | sender             | client     | msgs | rcpts | usage                                 | expected
            "app        | a@apps.example     | 192.0.2.1  | 1    | 1     |                                       | -",
            "app        | a@apps.example     | 192.0.2.1  | 1    | 1     | identity:app:minute=1/1               | -",
            "app        | a@apps.example     | 192.0.2.1  | 1    | 1     | identity:app:minute=2/2               | rateLimits[0].messages.minute",
            "app        | a@apps.example     | 192.0.2.1  | 1    | 1     | identity:app:day=100/100              | rateLimits[0].messages.day",
            // the identity key is the username, case-insensitively
            "app        | a@apps.example     | 192.0.2.1  | 1    | 1     | identity:App:minute=2/2               | -",
            // another identity's usage does not count
            "plain      | p@example.test     | 192.0.2.1  | 1    | 1     | identity:app:minute=9/9               | -",
            // role scope: the "apps" limit does not apply to holders of other roles
            "plain      | p@example.test     | 192.0.2.1  | 1    | 1     | identity:plain:minute=9/9             | -",
            // group scope, recipients: 5 per hour
            "staffer    | s@example.test     | 192.0.2.1  | 1    | 2     | identity:staffer:hour=3/3             | -",
            "staffer    | s@example.test     | 192.0.2.1  | 1    | 3     | identity:staffer:hour=3/3             | rateLimits[1].recipients.hour",
            // sender domain applies to everyone, the unauthenticated too
            "anonymous  | x@Shared.Example   | 192.0.2.1  | 1    | 1     | sender-domain:shared.example:hour=3/0 | rateLimits[2].messages.hour",
            "anonymous  | x@shared.example   | 192.0.2.1  | 1    | 1     | sender-domain:shared.example:hour=2/0 | -",
            // the null sender has no domain: not limited by domain
            "anonymous  | -                  | 192.0.2.1  | 1    | 1     | sender-domain:shared.example:hour=3/0 | -",
            // client address
            "anonymous  | x@a.example        | 192.0.2.7  | 1    | 1     | client-address:192.0.2.7:minute=4/4   | rateLimits[3].messages.minute",
            "anonymous  | x@a.example        | 192.0.2.7  | 0    | 3     | client-address:192.0.2.7:minute=3/4   | rateLimits[3].recipients.minute",
            "anonymous  | x@a.example        | 192.0.2.7  | 0    | 2     | client-address:192.0.2.7:minute=3/4   | -",
            // a single message larger than a recipient limit fits an empty window only
            "anonymous  | x@a.example        | 192.0.2.8  | 1    | 9     |                                       | -",
            "anonymous  | x@a.example        | 192.0.2.8  | 1    | 9     | client-address:192.0.2.8:minute=1/1   | rateLimits[3].recipients.minute",
    })
    void shouldAdmitOrNameTheLimit(String who, String sender, String client, long messages, long recipients,
                                   String usage, String expected) {
        Identity identity = who.equals("anonymous") ? null : USERS.get(who);
        Subject subject = Subject.of(identity, sender == null ? "" : sender, client);
        Optional<Exceeded> result = LIMITS.admit(subject, usage(usage == null ? "" : usage), NOW, messages,
                recipients);
        assertThat(result.map(Exceeded::rule).orElse(null)).isEqualTo(expected);
    }

    @Test
    void shouldStartCountingAgainInTheNextWindow() {
        Subject app = Subject.of(USERS.get("app"), "a@apps.example", "192.0.2.1");
        Usage full = usage("identity:app:minute=2/2");
        Exceeded exceeded = LIMITS.admit(app, full, NOW, 1, 1).orElseThrow();
        assertThat(exceeded.windowEnd()).isEqualTo(Instant.parse("2026-11-29T12:01:00Z"));
        assertThat(exceeded.describe()).isEqualTo("rate limit apps (2 messages per minute) reached");
        assertThat(LIMITS.admit(app, full, exceeded.windowEnd(), 1, 1)).isEmpty();
        assertThat(LIMITS.admit(app, full, exceeded.windowEnd().minusMillis(1), 1, 1)).isPresent();
    }

    @Test
    void shouldCountOnlyTheSlotsOfApplicableLimits() {
        Subject app = Subject.of(USERS.get("app"), "a@apps.example", "192.0.2.1");
        assertThat(LIMITS.slots(app, NOW)).containsExactly(
                new Slot(Per.IDENTITY, "app", Window.MINUTE, Window.MINUTE.bucket(NOW)),
                new Slot(Per.IDENTITY, "app", Window.DAY, Window.DAY.bucket(NOW)),
                new Slot(Per.SENDER_DOMAIN, "apps.example", Window.HOUR, Window.HOUR.bucket(NOW)),
                new Slot(Per.CLIENT_ADDRESS, "192.0.2.1", Window.MINUTE, Window.MINUTE.bucket(NOW)));
        assertThat(LIMITS.applicable(Subject.of(null, "", "192.0.2.1"))).containsExactly("clients");
    }

    @Test
    void shouldHaveNoLimitsWhenTheRuleSetHasNone() {
        RateLimits none = RelayRules.from(RuleSetCodec.parse("{\"version\":1}")).rateLimits();
        assertThat(none.isEmpty()).isTrue();
        assertThat(none.admit(Subject.of(null, "", "192.0.2.1"), slot -> new Count(1000, 1000), NOW, 1, 1)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{\"name\":\"a\",\"per\":\"user\",\"messages\":{\"minute\":1}}                  | rateLimits[0].per: must be one of identity, sender-domain, client-address",
            "{\"per\":\"identity\",\"messages\":{\"minute\":1}}                             | rateLimits[0].name: 1-64 letters",
            "{\"name\":\"a b\",\"per\":\"identity\",\"messages\":{\"minute\":1}}            | rateLimits[0].name: 1-64 letters",
            "{\"name\":\"a\",\"per\":\"identity\",\"messages\":{\"hour\":0}}                | rateLimits[0].messages.hour: must be at least 1",
            "{\"name\":\"a\",\"per\":\"identity\",\"recipients\":{\"day\":-5}}              | rateLimits[0].recipients.day: must be at least 1",
            "{\"name\":\"a\",\"per\":\"identity\"}                                          | rateLimits[0]: sets no limit",
            "{\"name\":\"a\",\"per\":\"identity\",\"roles\":[\" r\"],\"messages\":{\"day\":1}} | rateLimits[0].roles[0]: must be a non-empty name",
            "{\"name\":\"a\",\"per\":\"identity\",\"groups\":[\"\"],\"messages\":{\"day\":1}}  | rateLimits[0].groups[0]: must be a non-empty name",
    })
    void shouldNameTheLimitAndFieldOfEachProblem(String limit, String expected) {
        String json = "{\"version\":1,\"rateLimits\":[" + limit + "]}";
        assertThat(RuleSetValidator.validate(RuleSetCodec.parse(json)).toString()).contains(expected);
    }

    @Test
    void shouldRefuseDuplicateNamesAndUnknownFields() {
        String dup = "{\"version\":1,\"rateLimits\":[{\"name\":\"a\",\"per\":\"identity\",\"messages\":{\"day\":1}},"
                + "{\"name\":\"a\",\"per\":\"client-address\",\"messages\":{\"day\":1}}]}";
        assertThat(RuleSetValidator.validate(RuleSetCodec.parse(dup)).toString())
                .contains("rateLimits[1].name: duplicate limit name a");
        String typo = "{\"version\":1,\"rateLimits\":[{\"name\":\"a\",\"per\":\"identity\",\"messages\":{\"minutes\":1}}]}";
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RuleSetCodec.parse(typo))
                .hasMessageContaining("rateLimits[0].messages.minutes");
    }

    @Test
    void shouldRoundTripThroughTheCodec() {
        var set = RuleSetCodec.parse(RULES);
        assertThat(RuleSetCodec.parse(RuleSetCodec.encode(set))).isEqualTo(set);
        assertThat(RuleSetCodec.parse("{\"version\":1}").rateLimits()).isEmpty();
    }
}
