package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RelayRules;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.ingress.auth.AuthResult;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.MemoryBudget;
import dev.relay.ingress.smtp.protocol.Reply;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sender binding in the session (issue 12, item 3): an authenticated {@code MAIL FROM:<>} is refused unless a
 * grant allows it, the header {@code From:} must be the identity's, and an identity whose credential lifetime
 * passed must authenticate again.
 */
class SenderBindingSessionTest {

    private static final RelayRules RULES = RelayRules.from(RuleSetCodec.parse("""
            {"version": 1, "localDomains": ["example.test"], "relayRoles": ["smtp-relay"],
             "grants": [ {"role": "bouncer", "nullSender": true}, {"role": "lists", "headerFrom": "free"} ]}"""));
    private static final SessionSettings SETTINGS = new SessionSettings("relay.test", 100_000, 10, 20, 1000, 5000, 5,
            true, RULES, MemoryBudget.unlimited());

    private static Identity user(String... roles) {
        return new Identity("demo", "s1", "demo@example.test", List.of(roles), List.of(),
                List.of("@apps.example.test"));
    }

    private static Action line(SmtpSession s, String line) {
        return s.onLine(line.getBytes(StandardCharsets.UTF_8));
    }

    private static Reply reply(Action action) {
        return action instanceof Action.Send send ? send.reply() : ((Action.SendAndClose) action).reply();
    }

    private static SmtpSession authenticated(AuthResult.Success success) {
        SmtpSession s = new SmtpSession(SETTINGS, Listener.SUBMISSION, "192.0.2.1");
        s.onTlsStarted();
        line(s, "EHLO client.example");
        String plain = Base64.getEncoder().encodeToString("\0demo\0pw".getBytes(StandardCharsets.UTF_8));
        line(s, "AUTH PLAIN " + plain);
        assertThat(reply(s.onAuthResult(success)).code()).isEqualTo(235);
        return s;
    }

    private static Action data(SmtpSession s, String content) {
        DataDecoder decoder = ((Action.ReadData) line(s, "DATA")).decoder();
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        decoder.feed(bytes, 0, bytes.length);
        return s.onDataEnd(decoder);
    }

    @Test
    void shouldRefuseTheNullSenderOfAnAuthenticatedIdentity() {
        SmtpSession s = authenticated(new AuthResult.Success(user("smtp-relay")));
        Reply refused = reply(line(s, "MAIL FROM:<>"));
        assertThat(refused.code()).isEqualTo(553);
        assertThat(refused.status()).isEqualTo("5.7.1");
    }

    @Test
    void shouldAcceptTheNullSenderWhenAGrantAllowsItOrWithoutAuthentication() {
        SmtpSession bouncer = authenticated(new AuthResult.Success(user("bouncer")));
        assertThat(reply(line(bouncer, "MAIL FROM:<>")).code()).isEqualTo(250);
        SmtpSession mx = new SmtpSession(SETTINGS, Listener.RELAY, "192.0.2.9");
        line(mx, "EHLO mx.example");
        assertThat(reply(line(mx, "MAIL FROM:<>")).code()).isEqualTo(250);
    }

    @Test
    void shouldRefuseAHeaderFromTheIdentityDoesNotOwnAtTheEndOfData() {
        SmtpSession s = authenticated(new AuthResult.Success(user("smtp-relay")));
        line(s, "MAIL FROM:<demo@example.test>");
        line(s, "RCPT TO:<a@remote.example>");
        Reply refused = reply(data(s, "From: The CEO <ceo@example.test>\r\nSubject: pay\r\n\r\nx\r\n.\r\n"));
        assertThat(refused.code()).isEqualTo(550);
        assertThat(refused.status()).isEqualTo("5.7.1");
        line(s, "MAIL FROM:<demo@example.test>");
        line(s, "RCPT TO:<a@remote.example>");
        assertThat(data(s, "From: demo@example.test, ceo@example.test\r\n\r\nx\r\n.\r\n"))
                .as("every address must be owned").isNotInstanceOf(Action.Publish.class);
        line(s, "MAIL FROM:<demo@example.test>");
        line(s, "RCPT TO:<a@remote.example>");
        assertThat(data(s, "From: Demo <demo@example.test>\r\n\r\nx\r\n.\r\n")).isInstanceOf(Action.Publish.class);
    }

    @Test
    void shouldLeaveTheHeaderFromFreeForAGrantThatSaysSoAndForUnauthenticatedMail() {
        SmtpSession lists = authenticated(new AuthResult.Success(user("lists", "smtp-relay")));
        line(lists, "MAIL FROM:<demo@example.test>");
        line(lists, "RCPT TO:<a@remote.example>");
        assertThat(data(lists, "From: someone@elsewhere.example\r\n\r\nx\r\n.\r\n")).isInstanceOf(Action.Publish.class);
        SmtpSession mx = new SmtpSession(SETTINGS, Listener.RELAY, "192.0.2.9");
        line(mx, "EHLO mx.example");
        line(mx, "MAIL FROM:<a@elsewhere.example>");
        line(mx, "RCPT TO:<postmaster@example.test>"); // a mailbox that exists without a recipient source
        assertThat(data(mx, "From: ceo@example.test\r\n\r\nx\r\n.\r\n")).isInstanceOf(Action.Publish.class);
    }

    @Test
    void shouldAskForAuthenticationAgainOnceTheCredentialLifetimePassed() {
        SmtpSession s = authenticated(new AuthResult.Success(user("smtp-relay"), System.currentTimeMillis() - 1));
        Reply again = reply(line(s, "MAIL FROM:<demo@example.test>"));
        assertThat(again.code()).isEqualTo(454);
        assertThat(again.status()).isEqualTo("4.7.0");
        assertThat(s.identity()).isNull();
        String plain = Base64.getEncoder().encodeToString("\0demo\0pw".getBytes(StandardCharsets.UTF_8));
        assertThat(line(s, "AUTH PLAIN " + plain)).isInstanceOf(Action.Verify.class);
        s.onAuthResult(new AuthResult.Success(user("smtp-relay"), System.currentTimeMillis() + 60_000));
        assertThat(reply(line(s, "MAIL FROM:<demo@example.test>")).code()).isEqualTo(250);
    }
}
