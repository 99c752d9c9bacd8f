package dev.relay.common.rules;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Identity;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The engine over a full rule set, table-driven over envelopes: (client, identity, recipient) → verdict + rule. */
class RuleSetEngineTest {

    static final String RULES = """
            { "version": 1,
              "localDomains": ["example.test", "Mail.Example.Test"],
              "trustedNetworks": ["10.1.0.0/16"],
              "relayRoles": ["smtp-relay"],
              "relayGroups": ["/mail-senders"],
              "recipients": {"allow": ["@partner.example"], "deny": ["@blocked.example", "ceo@example.test"]},
              "limits": {"maxRecipients": 10, "maxMessageSize": 1000},
              "grants": [
                {"role": "apps", "senders": ["@apps.example.test", "noreply@example.test"],
                 "recipients": {"allow": ["@customers.example", "vip@other.example"], "deny": ["@competitor.example"]},
                 "limits": {"maxRecipients": 500}},
                {"group": "/interns", "recipients": {"deny": ["@partner.example"]}, "limits": {"maxRecipients": 3}}
              ],
              "routes": [{"domain": "partner.example", "nextHop": "mx.partner.example:2525", "tls": "required"}],
              "smarthost": {"nextHop": "smarthost.example:587", "tls": "verify"},
              "localRecipients": [{"domain": "example.test", "mailboxes": ["alice", "Sales"], "delimiter": "+"},
                                  {"domain": "mail.example.test", "catchAll": true}] }
            """;

    private final RelayRules rules = RelayRules.from(RuleSetCodec.parse(RULES));

    private static Identity identity(String who) {
        return switch (who) {
            case "-" -> null;
            case "relayer" -> new Identity("r", "s", "r@example.test", List.of("smtp-relay"), List.of(), List.of());
            case "group" -> new Identity("g", "s", "g@example.test", List.of(), List.of("/mail-senders"), List.of());
            case "app" -> new Identity("a", "s", "a@example.test", List.of("apps"), List.of(), List.of());
            case "intern" -> new Identity("i", "s", "i@example.test", List.of("smtp-relay"), List.of("/interns"),
                    List.of());
            case "plain" -> new Identity("p", "s", "p@example.test", List.of(), List.of(), List.of());
            default -> throw new IllegalArgumentException(who);
        };
    }

    /** An envelope's RCPT as the engines see it: through the one address parser first. */
    private String verdict(String client, String who, String rcpt) {
        ParsedAddress parsed = AddressParser.parse(rcpt, false);
        if (parsed instanceof ParsedAddress.Invalid invalid) {
            return "refused-by-parser";
        }
        RelayDecision d = rules.decide(client, identity(who), ((ParsedAddress.Valid) parsed).address());
        return (d.allowed() ? "allow " : "deny ") + d.rule();
    }

    @ParameterizedTest(name = "{0} {1} → {2}: {3}")
    @CsvSource(delimiter = '|', value = {
            // client     | identity | recipient                      | verdict
            "192.0.2.7    | -        | postmaster@example.test        | allow localDomains[0]",
            "192.0.2.7    | -        | a@MAIL.example.TEST            | allow localRecipients[1].catchAll",
            "192.0.2.7    | -        | ALICE@example.test             | allow localRecipients[0].mailboxes[0]",
            "192.0.2.7    | -        | \"alice\"@example.test         | allow localRecipients[0].mailboxes[0]",
            "192.0.2.7    | -        | sales+q4@example.test          | allow localRecipients[0].mailboxes[1]",
            "192.0.2.7    | -        | nobody@example.test            | deny unknown-recipient",
            "192.0.2.7    | -        | +alice@example.test            | deny unknown-recipient",
            "10.1.2.3     | -        | nobody@example.test            | deny unknown-recipient",
            "192.0.2.7    | relayer  | nobody@example.test            | deny unknown-recipient",
            "192.0.2.7    | -        | victim@remote.example          | deny default-deny",
            "192.0.2.7    | -        | a@partner.example              | deny default-deny",
            "192.0.2.7    | plain    | a@partner.example              | allow recipients.allow[0]",
            "192.0.2.7    | plain    | a@remote.example               | deny default-deny",
            "192.0.2.7    | relayer  | a@remote.example               | allow relayRoles[0]",
            "192.0.2.7    | group    | a@remote.example               | allow relayGroups[0]",
            "192.0.2.7    | app      | a@customers.example            | allow grants[0].recipients.allow[0]",
            "192.0.2.7    | app      | VIP@other.example              | allow grants[0].recipients.allow[1]",
            "192.0.2.7    | app      | someone@other.example          | deny default-deny",
            "192.0.2.7    | app      | a@competitor.example           | deny grants[0].recipients.deny[0]",
            "192.0.2.7    | relayer  | a@competitor.example           | allow relayRoles[0]",
            "10.1.2.3     | -        | a@remote.example               | allow trustedNetworks[0]",
            "10.1.2.3     | -        | a@blocked.example              | deny recipients.deny[0]",
            "192.0.2.7    | relayer  | x@BLOCKED.example              | deny recipients.deny[0]",
            "192.0.2.7    | -        | CEO@example.test               | deny recipients.deny[1]",
            "192.0.2.7    | intern   | a@partner.example              | deny grants[1].recipients.deny[0]",
            "192.0.2.7    | intern   | a@remote.example               | allow relayRoles[0]",
            // address tricks never reach a rule: the parser refuses them
            "10.1.2.3     | relayer  | user%victim@example.test       | refused-by-parser",
            "10.1.2.3     | relayer  | host!user@example.test         | refused-by-parser",
            "10.1.2.3     | relayer  | @relay.example:user@example.test | refused-by-parser",
            "10.1.2.3     | relayer  | \"user@victim\"@example.test   | refused-by-parser",
            "192.0.2.7    | -        | \"user%victim.example\"@example.test | refused-by-parser",
            "192.0.2.7    | -        | \"victim.example!user\"@example.test | refused-by-parser",
            "10.1.2.3     | relayer  | user@[192.0.2.1]               | refused-by-parser",
    })
    void shouldDecideEachEnvelopeByTheNamedRule(String client, String who, String rcpt, String expected) {
        assertThat(verdict(client, who, rcpt)).isEqualTo(expected);
    }

    @Test
    void shouldRefuseAnUnknownLocalRecipientAsNoSuchUser() {
        RelayDecision d = rules.decide("192.0.2.7", null, new MailAddress("nobody", "example.test"));
        assertThat(d).isInstanceOfSatisfying(RelayDecision.Deny.class, deny -> {
            assertThat(deny.refusal()).isEqualTo(RelayDecision.Refusal.UNKNOWN_RECIPIENT);
            assertThat(deny.refusal().code()).isEqualTo(550);
            assertThat(deny.refusal().status()).isEqualTo("5.1.1");
        });
        RelayDecision relay = rules.decide("192.0.2.7", null, new MailAddress("a", "remote.example"));
        assertThat(((RelayDecision.Deny) relay).refusal()).isEqualTo(RelayDecision.Refusal.POLICY);
    }

    @Test
    void shouldNeverRelayForTheUnauthenticatedWhateverTheOrder() {
        RelayRules reordered = RelayRules.from(RuleSetCodec.parse("""
                {"version":1,"recipients":{"allow":["@remote.example"]},
                 "grants":[{"role":"x","recipients":{"allow":["@remote.example"]}}],"relayRoles":["x"]}"""));
        assertThat(reordered.decide("192.0.2.1", null, new MailAddress("a", "remote.example")).rule())
                .isEqualTo("default-deny");
    }

    @Test
    void shouldGrantSendersPerRole() {
        assertThat(rules.sender(identity("app"), new MailAddress("x", "apps.example.test")).rule())
                .isEqualTo("grants[0].senders[0]");
        assertThat(rules.sender(identity("app"), new MailAddress("a", "example.test")).rule())
                .isEqualTo("identity-senders");
        assertThat(rules.sender(identity("relayer"), new MailAddress("x", "apps.example.test")).allowed()).isFalse();
    }

    @Test
    void shouldTakeTheMostGenerousLimitOfTheGrantsHeldElseTheDefault() {
        assertThat(rules.maxRecipients(identity("app"))).contains(new RelayRules.Limit(500, "grants[0].limits.maxRecipients"));
        assertThat(rules.maxRecipients(identity("intern"))).contains(new RelayRules.Limit(3, "grants[1].limits.maxRecipients"));
        assertThat(rules.maxRecipients(null)).contains(new RelayRules.Limit(10, "limits.maxRecipients"));
        assertThat(rules.maxMessageSize(identity("app"))).contains(new RelayRules.Limit(1000, "limits.maxMessageSize"));
    }

    @Test
    void shouldRoundTripTheJson() {
        RuleSet set = RuleSetCodec.parse(RULES);
        assertThat(RuleSetCodec.parse(RuleSetCodec.encode(set))).isEqualTo(set);
    }
}
