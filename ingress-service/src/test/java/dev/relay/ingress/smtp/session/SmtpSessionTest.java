package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RelayRules;
import dev.relay.ingress.auth.AuthResult;
import dev.relay.ingress.auth.sasl.Credentials;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.MemoryBudget;
import dev.relay.ingress.smtp.protocol.Reply;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SmtpSessionTest {

    private static final SessionSettings SETTINGS = new SessionSettings("relay.test", 1000, 2, 5, 1000, 500, 3,
            true, RelayRules.of(List.of("example.test"), List.of(), List.of("smtp-relay")), MemoryBudget.unlimited());
    private static final Identity DEMO = new Identity("demo", "s1", "demo@example.test", List.of("smtp-relay"),
            List.of(), List.of());

    private static Action line(SmtpSession s, String line) {
        return s.onLine(line.getBytes(StandardCharsets.UTF_8));
    }

    private static int code(Action action) {
        if (action instanceof Action.Send send) {
            return send.reply().code();
        }
        if (action instanceof Action.SendAndClose close) {
            return close.reply().code();
        }
        if (action instanceof Action.ReadData read) {
            return read.reply().code();
        }
        if (action instanceof Action.StartTls tls) {
            return tls.reply().code();
        }
        return -1;
    }

    private static String status(Action action) {
        Reply reply = action instanceof Action.Send send ? send.reply() : ((Action.SendAndClose) action).reply();
        return reply.status();
    }

    private static SmtpSession authenticated(Listener listener) {
        SmtpSession s = new SmtpSession(SETTINGS, listener, "192.0.2.1");
        s.onTlsStarted();
        line(s, "EHLO client.example");
        String plain = Base64.getEncoder().encodeToString("\0demo\0pw".getBytes(StandardCharsets.UTF_8));
        assertThat(line(s, "AUTH PLAIN " + plain)).isEqualTo(new Action.Verify(new Credentials.Password("PLAIN", "demo", "pw")));
        assertThat(code(s.onAuthResult(new AuthResult.Success(DEMO)))).isEqualTo(235);
        return s;
    }

    @Test
    void shouldRequireGreetingBeforeMail() {
        SmtpSession s = new SmtpSession(SETTINGS, Listener.RELAY, "192.0.2.1");
        assertThat(code(line(s, "MAIL FROM:<a@example.test>"))).isEqualTo(503);
    }

    @Test
    void shouldRefuseRelayWhenUnauthenticated() {
        SmtpSession s = new SmtpSession(SETTINGS, Listener.RELAY, "192.0.2.1");
        line(s, "EHLO client.example");
        assertThat(code(line(s, "MAIL FROM:<a@elsewhere.example>"))).isEqualTo(250);
        Action refused = line(s, "RCPT TO:<victim@remote.example>");
        assertThat(code(refused)).isEqualTo(554);
        assertThat(status(refused)).isEqualTo("5.7.1");
        assertThat(code(line(s, "RCPT TO:<postmaster@example.test>"))).isEqualTo(250);
    }

    @Test
    void shouldRequireAuthOnSubmissionAndNotOfferItInPlainText() {
        SmtpSession s = new SmtpSession(SETTINGS, Listener.SUBMISSION, "192.0.2.1");
        Action ehlo = line(s, "EHLO client.example");
        assertThat(((Action.Send) ehlo).reply().lines()).contains("STARTTLS").noneMatch(l -> l.startsWith("AUTH"));
        assertThat(code(line(s, "MAIL FROM:<demo@example.test>"))).isEqualTo(530);
        assertThat(code(line(s, "AUTH PLAIN AGRlbW8AcHc="))).isEqualTo(538);
    }

    @Test
    void shouldForgetEverythingAfterStartTls() {
        SmtpSession s = new SmtpSession(SETTINGS, Listener.SUBMISSION, "192.0.2.1");
        line(s, "EHLO client.example");
        assertThat(line(s, "STARTTLS")).isInstanceOf(Action.StartTls.class);
        s.onTlsStarted();
        assertThat(code(line(s, "MAIL FROM:<demo@example.test>"))).isEqualTo(503);
        Action ehlo = line(s, "EHLO client.example");
        assertThat(((Action.Send) ehlo).reply().lines()).contains("AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER", "CHUNKING",
                "DSN").doesNotContain("STARTTLS");
    }

    @Test
    void shouldBindSenderToIdentity() {
        SmtpSession s = authenticated(Listener.SUBMISSION);
        Action foreign = line(s, "MAIL FROM:<ceo@example.test>");
        assertThat(code(foreign)).isEqualTo(553);
        assertThat(status(foreign)).isEqualTo("5.7.1");
        assertThat(code(line(s, "MAIL FROM:<demo@example.test>"))).isEqualTo(250);
        assertThat(code(line(s, "RCPT TO:<friend@remote.example>"))).isEqualTo(250);
    }

    @Test
    void shouldAnswerInvalidCredentialsWith535AndUnavailableWith454() {
        SmtpSession s = new SmtpSession(SETTINGS, Listener.SUBMISSIONS, "192.0.2.1");
        line(s, "EHLO client.example");
        assertThat(line(s, "AUTH LOGIN")).isEqualTo(new Action.Send(Reply.of(334, null, "VXNlcm5hbWU6")));
        line(s, Base64.getEncoder().encodeToString("demo".getBytes()));
        assertThat(line(s, Base64.getEncoder().encodeToString("bad".getBytes())))
                .isEqualTo(new Action.Verify(new Credentials.Password("LOGIN", "demo", "bad")));
        Action invalid = s.onAuthResult(new AuthResult.Invalid());
        assertThat(code(invalid)).isEqualTo(535);
        assertThat(status(invalid)).isEqualTo("5.7.8");
        line(s, "AUTH PLAIN " + Base64.getEncoder().encodeToString("\0demo\0pw".getBytes()));
        Action unavailable = s.onAuthResult(new AuthResult.Unavailable("down"));
        assertThat(code(unavailable)).isEqualTo(454);
        assertThat(status(unavailable)).isEqualTo("4.7.0");
    }

    @Test
    void shouldLimitRecipients() {
        SmtpSession s = authenticated(Listener.SUBMISSION);
        line(s, "MAIL FROM:<demo@example.test>");
        line(s, "RCPT TO:<a@remote.example>");
        line(s, "RCPT TO:<b@remote.example>");
        Action third = line(s, "RCPT TO:<c@remote.example>");
        assertThat(code(third)).isEqualTo(452);
        assertThat(status(third)).isEqualTo("4.5.3");
    }

    @Test
    void shouldPublishAndAnswer250OnlyAfterTheQueueHasIt() {
        SmtpSession s = authenticated(Listener.SUBMISSION);
        line(s, "MAIL FROM:<demo@example.test> BODY=8BITMIME");
        line(s, "RCPT TO:<a@remote.example>");
        Action data = line(s, "DATA");
        assertThat(code(data)).isEqualTo(354);
        DataDecoder decoder = ((Action.ReadData) data).decoder();
        byte[] body = "Subject: t\r\n\r\nhi\r\n.\r\n".getBytes(StandardCharsets.UTF_8);
        decoder.feed(body, 0, body.length);
        Action publish = s.onDataEnd(decoder);
        assertThat(publish).isInstanceOf(Action.Publish.class);
        Action.Publish p = (Action.Publish) publish;
        assertThat(p.envelope().recipients()).containsExactly("a@remote.example");
        assertThat(p.envelope().identity()).isEqualTo(DEMO);
        assertThat(new String(p.message(), StandardCharsets.UTF_8)).startsWith("Received: from client.example")
                .contains("with ESMTPSA id " + p.envelope().messageId()).endsWith("Subject: t\r\n\r\nhi\r\n");
        Action failed = s.onPublished(p, false);
        assertThat(code(failed)).isEqualTo(451);
        assertThat(status(failed)).isEqualTo("4.3.0");
        assertThat(s.queuedIds()).isEmpty();
    }

    @Test
    void shouldCloseAfterTooManyErrors() {
        SmtpSession s = new SmtpSession(SETTINGS, Listener.RELAY, "192.0.2.1");
        for (int i = 0; i < 4; i++) {
            assertThat(line(s, "BOGUS")).isInstanceOf(Action.Send.class);
        }
        Action last = line(s, "BOGUS");
        assertThat(last).isInstanceOf(Action.SendAndClose.class);
        assertThat(code(last)).isEqualTo(421);
    }

    private static Action.Publish dataMessage(SmtpSession s, String content) {
        Action data = line(s, "DATA");
        assertThat(code(data)).as("DATA").isEqualTo(354);
        DataDecoder decoder = ((Action.ReadData) data).decoder();
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        decoder.feed(bytes, 0, bytes.length);
        Action end = s.onDataEnd(decoder);
        return end instanceof Action.Publish p ? p : null;
    }

    @Test
    void shouldCarryDsnParametersInTheEnvelope() {
        SmtpSession s = authenticated(Listener.SUBMISSION);
        assertThat(code(line(s, "MAIL FROM:<demo@example.test> RET=HDRS ENVID=QQ+2B1"))).isEqualTo(250);
        assertThat(code(line(s, "RCPT TO:<a@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40remote.example")))
                .isEqualTo(250);
        assertThat(code(line(s, "RCPT TO:<b@remote.example>"))).isEqualTo(250);
        Action.Publish p = dataMessage(s, "Subject: d\r\n\r\nx\r\n.\r\n");
        assertThat(p.envelope().dsn().ret()).isEqualTo("HDRS");
        assertThat(p.envelope().dsn().envid()).isEqualTo("QQ+1");
        assertThat(p.envelope().dsn().recipients()).containsOnlyKeys("a@remote.example");
        assertThat(p.envelope().dsn().recipients().get("a@remote.example").notifyOn()).containsExactly("SUCCESS", "FAILURE");
        assertThat(p.envelope().dsn().recipients().get("a@remote.example").orcpt()).isEqualTo("rfc822;a@remote.example");
    }

    @Test
    void shouldRefuseMalformedDsnParameters() {
        SmtpSession s = authenticated(Listener.SUBMISSION);
        assertThat(code(line(s, "MAIL FROM:<demo@example.test> RET=ALL"))).isEqualTo(501);
        assertThat(code(line(s, "MAIL FROM:<demo@example.test> ENVID=a=b"))).isEqualTo(501);
        s = authenticated(Listener.SUBMISSION); // a fresh session: five refusals would end this one (max-errors)
        assertThat(code(line(s, "MAIL FROM:<demo@example.test>"))).isEqualTo(250);
        assertThat(code(line(s, "RCPT TO:<a@remote.example> NOTIFY=NEVER,SUCCESS"))).isEqualTo(501);
        assertThat(code(line(s, "RCPT TO:<a@remote.example> ORCPT=a@remote.example"))).isEqualTo(501);
        assertThat(code(line(s, "RCPT TO:<a@remote.example> FOO=1"))).isEqualTo(555);
    }

    @Test
    void shouldAssembleBdatChunksIntoOneMessage() {
        SmtpSession s = authenticated(Listener.SUBMISSION);
        line(s, "MAIL FROM:<demo@example.test>");
        line(s, "RCPT TO:<a@remote.example>");
        Action first = line(s, "BDAT 14");
        assertThat(first).isInstanceOf(Action.ReadChunk.class);
        Action.ReadChunk c1 = (Action.ReadChunk) first;
        c1.buffer().write("Subject: b\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0, 14);
        assertThat(code(s.onChunk(c1))).isEqualTo(250);
        Action.ReadChunk c2 = (Action.ReadChunk) line(s, "BDAT 6 LAST");
        c2.buffer().write(".dot\r\n".getBytes(StandardCharsets.US_ASCII), 0, 6);
        Action done = s.onChunk(c2);
        assertThat(done).isInstanceOf(Action.Publish.class);
        assertThat(new String(((Action.Publish) done).message(), StandardCharsets.US_ASCII))
                .endsWith("Subject: b\r\n\r\n.dot\r\n"); // no dot-unstuffing in BDAT
    }

    @Test
    void shouldDiscardBdatChunksOfARefusedCommand() {
        SmtpSession s = authenticated(Listener.SUBMISSION);
        Action chunk = line(s, "BDAT 5 LAST");
        assertThat(chunk).isInstanceOf(Action.ReadChunk.class);
        assertThat(((Action.ReadChunk) chunk).buffer()).isNull();
        assertThat(code(s.onChunk((Action.ReadChunk) chunk))).isEqualTo(503);
        assertThat(line(s, "BDAT ten")).isInstanceOf(Action.SendAndClose.class);
    }

    @Test
    void shouldRefuseMailLoopsAndOversizedHeaders() {
        SmtpSession s = authenticated(Listener.SUBMISSION);
        line(s, "MAIL FROM:<demo@example.test>");
        line(s, "RCPT TO:<a@remote.example>");
        // our own Received: plus three more exceeds max-hops 3
        Action loop = s.onDataEnd(decoded(s, "Received: a\r\nReceived: b\r\nReceived: c\r\n\r\nx\r\n.\r\n"));
        assertThat(loop).isEqualTo(new Action.Send(Reply.of(554, "5.4.6", "Too many hops (mail loop?)")));
        line(s, "MAIL FROM:<demo@example.test>");
        line(s, "RCPT TO:<a@remote.example>");
        Action big = s.onDataEnd(decoded(s, "X-Big: " + "y".repeat(400) + "\r\n\r\nx\r\n.\r\n"));
        assertThat(code(big)).isEqualTo(552);
    }

    private static DataDecoder decoded(SmtpSession s, String content) {
        DataDecoder decoder = ((Action.ReadData) line(s, "DATA")).decoder();
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        decoder.feed(bytes, 0, bytes.length);
        return decoder;
    }

    @Test
    void shouldChallengeThenRefuseAnInvalidToken() {
        SmtpSession s = new SmtpSession(SETTINGS, Listener.SUBMISSIONS, "192.0.2.1");
        line(s, "EHLO client.example");
        String payload = Base64.getEncoder().encodeToString("user=demo\u0001auth=Bearer abc\u0001\u0001".getBytes());
        Action verify = line(s, "AUTH XOAUTH2 " + payload);
        assertThat(verify).isEqualTo(new Action.Verify(new Credentials.Token("XOAUTH2", "abc")));
        Action challenge = s.onAuthResult(new AuthResult.Invalid());
        assertThat(code(challenge)).isEqualTo(334);
        Action refused = line(s, "");
        assertThat(code(refused)).isEqualTo(535);
        assertThat(code(line(s, "AUTH OAUTHBEARER"))).isEqualTo(334);
        // an XOAUTH2 payload given to OAUTHBEARER has no GS2 header: no token, still verified (and refused)
        assertThat(line(s, payload)).isEqualTo(new Action.Verify(new Credentials.Token("OAUTHBEARER", null)));
        assertThat(code(s.onAuthResult(new AuthResult.Success(DEMO)))).isEqualTo(235);
    }
}
