package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.Count;
import dev.relay.common.rules.Per;
import dev.relay.common.rules.RelayRules;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Usage;
import dev.relay.common.rules.Window;
import dev.relay.ingress.auth.AuthResult;
import dev.relay.ingress.smtp.protocol.MemoryBudget;
import dev.relay.ingress.smtp.protocol.Reply;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The rule set's rate limits in the state machine: 450 4.7.1 at MAIL, 452 4.5.3 at RCPT, from followed usage. */
class RateLimitSessionTest {

    private static final Instant NOW = Instant.parse("2026-11-29T12:00:30Z");
    private static final RelayRules RULES = RelayRules.from(RuleSetCodec.parse("""
            {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
             "rateLimits":[{"name":"per-user","per":"identity","roles":["smtp-relay"],
                            "messages":{"hour":10},"recipients":{"minute":3}}]}"""));
    private static final Identity DEMO = new Identity("demo", "s1", "demo@example.test", List.of("smtp-relay"),
            List.of(), List.of());

    private final Map<Slot, Count> counts = new HashMap<>();
    private final Usage usage = slot -> counts.getOrDefault(slot, Count.ZERO);

    private SmtpSession authenticated() {
        SessionSettings settings = new SessionSettings("relay.test", 1000, 100, 5, 1000, 500, 3, true,
                () -> RULES, MemoryBudget.unlimited(), new RateLimitGate(usage, Clock.fixed(NOW, ZoneOffset.UTC)));
        SmtpSession s = new SmtpSession(settings, Listener.SUBMISSION, "192.0.2.1");
        s.onTlsStarted();
        line(s, "EHLO client.example");
        line(s, "AUTH PLAIN " + Base64.getEncoder().encodeToString("\0demo\0pw".getBytes(StandardCharsets.UTF_8)));
        assertThat(reply(s.onAuthResult(new AuthResult.Success(DEMO))).code()).isEqualTo(235);
        return s;
    }

    private void used(Window window, long messages, long recipients) {
        counts.put(new Slot(Per.IDENTITY, "demo", window, window.bucket(NOW)), new Count(messages, recipients));
    }

    private static Action line(SmtpSession s, String line) {
        return s.onLine(line.getBytes(StandardCharsets.UTF_8));
    }

    private static Reply reply(Action action) {
        return ((Action.Send) action).reply();
    }

    @Test
    void shouldRefuseMailWhenTheIdentityIsAtItsMessageLimit() {
        used(Window.HOUR, 10, 10);
        Reply reply = reply(line(authenticated(), "MAIL FROM:<demo@example.test>"));
        assertThat(reply.code()).isEqualTo(450);
        assertThat(reply.status()).isEqualTo("4.7.1");
        assertThat(reply.toString()).contains("Rate limit per-user (10 messages per hour) reached, try again later");
    }

    @Test
    void shouldAcceptMailBelowTheLimit() {
        used(Window.HOUR, 9, 9);
        assertThat(reply(line(authenticated(), "MAIL FROM:<demo@example.test>")).code()).isEqualTo(250);
    }

    @Test
    void shouldRefuseRecipientsBeyondTheRecipientLimitOfTheWindow() {
        used(Window.MINUTE, 1, 1);
        SmtpSession s = authenticated();
        assertThat(reply(line(s, "MAIL FROM:<demo@example.test>")).code()).isEqualTo(250);
        assertThat(reply(line(s, "RCPT TO:<a@remote.example>")).code()).isEqualTo(250);
        assertThat(reply(line(s, "RCPT TO:<b@remote.example>")).code()).isEqualTo(250);
        Reply third = reply(line(s, "RCPT TO:<c@remote.example>"));
        assertThat(third.code()).isEqualTo(452);
        assertThat(third.status()).isEqualTo("4.5.3");
        assertThat(third.toString()).contains("per-user (3 recipients per minute)");
    }

    @Test
    void shouldNotLimitAnotherIdentityOrTheUnauthenticated() {
        counts.put(new Slot(Per.IDENTITY, "other", Window.HOUR, Window.HOUR.bucket(NOW)), new Count(99, 99));
        assertThat(reply(line(authenticated(), "MAIL FROM:<demo@example.test>")).code()).isEqualTo(250);
    }
}
