package dev.relay.common.rules;

import dev.relay.common.envelope.Identity;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static dev.relay.common.rules.RelayChecks.Stage.POLICY;
import static dev.relay.common.rules.RelayChecks.Stage.SESSION;
import static org.assertj.core.api.Assertions.assertThat;

/** The one check sequence of ingress and policy: its order, and each difference between the two stages. */
class RelayChecksTest {

    private static final String RULES = """
            {"version": 1, "localDomains": ["example.test"], "relayRoles": ["smtp-relay"],
             "limits": {"maxRecipients": 2, "maxMessageSize": 1000},
             "rateLimits": [{"name": "users", "per": "identity", "messages": {"minute": 1},
                             "recipients": {"minute": 1}}]}
            """;
    private static final RelayRules RULES_NOW = RelayRules.from(RuleSetCodec.parse(RULES));
    private static final Identity USER = new Identity("demo", "sub-1", "demo@example.test", List.of("smtp-relay"),
            List.of(), List.of());
    private static final RelayChecks.Context AUTHENTICATED =
            new RelayChecks.Context(RULES_NOW, "192.0.2.1", USER, false);
    private static final RelayChecks.Context ANONYMOUS =
            new RelayChecks.Context(RULES_NOW, "192.0.2.1", null, false);
    private static final Instant NOW = Instant.parse("2026-11-29T12:00:30Z");
    /** Every slot already at one message and one recipient: a limit of one per minute is full. */
    private static final RelayChecks.RateView FULL = new RelayChecks.RateView(slot -> new Count(1, 1), NOW);
    private static final RelayChecks.RateView EMPTY = new RelayChecks.RateView(Usage.NONE, NOW);
    private static final Optional<RelayRules.Limit> TWO = RULES_NOW.maxRecipients(USER);

    private static byte[] from(String address) {
        return ("From: " + address + "\r\nSubject: x\r\n\r\nbody\r\n").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldCheckTheSenderInOneOrderForBothStages() {
        // a null sender the identity may not use is refused before anything else is looked at
        for (RelayChecks.Stage stage : RelayChecks.Stage.values()) {
            assertThat(RelayChecks.sender(stage, AUTHENTICATED, "", from("x@elsewhere.example"), 5000, FULL)
                    .failure()).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.NULL_SENDER);
            assertThat(RelayChecks.sender(stage, AUTHENTICATED, "other@elsewhere.example", null, -1, null)
                    .failure()).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.SENDER_OWNED);
            assertThat(RelayChecks.sender(stage, AUTHENTICATED, "demo@example.test", null, -1, EMPTY).value())
                    .hasToString("demo@example.test");
        }
    }

    @Test
    void shouldBindTheHeaderFromOnlyWhenTheMessageIsGiven() {
        assertThat(RelayChecks.sender(POLICY, AUTHENTICATED, "demo@example.test", from("x@elsewhere.example"), 10,
                null).failure()).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.HEADER_FROM);
        assertThat(RelayChecks.sender(SESSION, AUTHENTICATED, "demo@example.test", null, -1, null).passed()).isTrue();
        // the header From comes before the envelope sender
        assertThat(RelayChecks.sender(POLICY, AUTHENTICATED, "bad address", from("x@elsewhere.example"), 10, null)
                .failure()).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.HEADER_FROM);
    }

    @Test
    void shouldParseAnUnauthenticatedSenderOnlyInTheSession() {
        RelayChecks.Failure session = RelayChecks.sender(SESSION, ANONYMOUS, "bad address", null, -1, null).failure();
        assertThat(session).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.SENDER_SYNTAX);
        assertThat(session.rule()).isEqualTo(RelayChecks.ADDRESS_SYNTAX);
        RelayChecks.Outcome<?> policy = RelayChecks.sender(POLICY, ANONYMOUS, "bad address", null, 10, null);
        assertThat(policy.passed()).isTrue();
        assertThat(policy.value()).isNull();
        assertThat(RelayChecks.sender(POLICY, AUTHENTICATED, "bad address", null, 10, null).failure())
                .extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.SENDER_SYNTAX);
    }

    @Test
    void shouldCheckTheRuleSetsMessageSizeOnlyWhenTheSizeIsKnown() {
        RelayChecks.Failure tooLarge = RelayChecks.sender(POLICY, AUTHENTICATED, "demo@example.test", null, 1001,
                null).failure();
        assertThat(tooLarge).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.MESSAGE_SIZE);
        assertThat(tooLarge.rule()).isEqualTo("limits.maxMessageSize");
        assertThat(tooLarge.reason()).isEqualTo("message too large (at most 1000 bytes)");
        assertThat(tooLarge.temporary()).isFalse();
        assertThat(RelayChecks.sender(SESSION, AUTHENTICATED, "demo@example.test", null, -1, null).passed())
                .isTrue();
    }

    @Test
    void shouldCheckRatesOnlyWithARateViewAndAsTemporary() {
        RelayChecks.Failure atMail = RelayChecks.sender(SESSION, AUTHENTICATED, "demo@example.test", null, -1, FULL)
                .failure();
        assertThat(atMail.step()).isEqualTo(RelayChecks.Step.MESSAGE_RATE);
        assertThat(atMail.temporary()).isTrue();
        assertThat(atMail.rule()).isEqualTo("rateLimits[0].messages.minute");
        RelayChecks.Failure atRcpt = RelayChecks.recipient(SESSION, AUTHENTICATED, "demo@example.test",
                "a@remote.example", 0, TWO, FULL).failure();
        assertThat(atRcpt.step()).isEqualTo(RelayChecks.Step.RECIPIENT_RATE);
        // the policy passes no view: its rate limiter checks the whole message after deciding, and holds
        assertThat(RelayChecks.sender(POLICY, AUTHENTICATED, "demo@example.test", null, 10, null).passed()).isTrue();
        assertThat(RelayChecks.recipient(POLICY, AUTHENTICATED, "demo@example.test", "a@remote.example", 0, TWO,
                null).passed()).isTrue();
    }

    @Test
    void shouldCountRecipientsFirstInTheSessionAndAfterTheDecisionInThePolicy() {
        RelayChecks.Failure session = RelayChecks.recipient(SESSION, AUTHENTICATED, "demo@example.test",
                "bad address", 2, TWO, null).failure();
        assertThat(session).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.RECIPIENT_COUNT);
        assertThat(session.temporary()).isTrue();
        assertThat(RelayChecks.recipient(POLICY, AUTHENTICATED, "demo@example.test", "bad address", 2, TWO, null)
                .failure()).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.RECIPIENT_SYNTAX);
        assertThat(RelayChecks.recipient(POLICY, ANONYMOUS, "", "a@remote.example", 2, TWO, null).failure())
                .extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.RECIPIENT_DECISION);
        RelayChecks.Failure policy = RelayChecks.recipient(POLICY, AUTHENTICATED, "demo@example.test",
                "a@remote.example", 2, TWO, null).failure();
        assertThat(policy).extracting(RelayChecks.Failure::step).isEqualTo(RelayChecks.Step.RECIPIENT_COUNT);
        assertThat(policy.rule()).isEqualTo("limits.maxRecipients");
        assertThat(policy.reason()).isEqualTo("too many recipients (at most 2)");
    }

    @Test
    void shouldApplyTheRecipientLimitTheCallerGives() {
        RelayRules.Limit configured = new RelayRules.Limit(1, "session.maxRecipients");
        assertThat(RelayChecks.recipient(SESSION, AUTHENTICATED, "demo@example.test", "a@remote.example", 1,
                Optional.of(configured), null).failure().step()).isEqualTo(RelayChecks.Step.RECIPIENT_COUNT);
        RelayChecks.Outcome<RelayChecks.Allowed> unlimited = RelayChecks.recipient(POLICY, AUTHENTICATED,
                "demo@example.test", "a@remote.example", 1000, Optional.empty(), null);
        assertThat(unlimited.value()).isEqualTo(new RelayChecks.Allowed(unlimited.value().address(),
                "relayRoles[0]"));
    }
}
