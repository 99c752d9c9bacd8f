package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplyParserTest {

    private final ReplyParser parser = new ReplyParser();

    @Test
    void shouldJoinMultiLineReplyFedInPieces() {
        parser.expect(1);
        feed("250-mx.example.org hello\r\n250-8BIT");
        assertThat(parser.next()).isEmpty();

        feed("MIME\r\n250 SIZE 1000\r\n");

        assertThat(parser.next()).contains(new SmtpReply(250, List.of("mx.example.org hello", "8BITMIME",
                "SIZE 1000")));
    }

    @Test
    void shouldAcceptCodeWithoutText() {
        parser.expect(1);
        feed("354\r\n");

        assertThat(parser.next()).contains(new SmtpReply(354, List.of("")));
    }

    @Test
    void shouldQueueRepliesThatArriveTogether() {
        parser.expect(2);
        feed("250 ok\r\n221 bye\r\n");

        assertThat(parser.next()).map(SmtpReply::code).contains(250);
        assertThat(parser.next()).map(SmtpReply::code).contains(221);
    }

    @Test
    void shouldRefuseGarbage() {
        parser.expect(1);
        assertThatThrownBy(() -> feed("HTTP/1.1 400 Bad Request\r\n")).isInstanceOf(SmtpProtocolException.class);
    }

    @Test
    void shouldRefuseChangingCodeInsideReply() {
        parser.expect(2);
        assertThatThrownBy(() -> feed("250-a\r\n550 b\r\n")).isInstanceOf(SmtpProtocolException.class);
    }

    @Test
    void shouldRefuseEndlessLine() {
        parser.expect(1);
        assertThatThrownBy(() -> feed("250 " + "x".repeat(ReplyParser.MAX_LINE)))
                .isInstanceOf(SmtpProtocolException.class);
    }

    @Test
    void shouldForgetBufferedBytesOnReset() {
        parser.expect(1);
        feed("250 injected before TLS\r\n");

        parser.reset();

        assertThat(parser.next()).isEmpty();
    }

    // ---- issue #12 item 2: a hostile server cannot make us queue replies, lines or bytes without a bound ----

    @Test
    void shouldRefuseAReplyNobodyAskedFor() {
        parser.expect(1);
        feed("220 hello\r\n");
        assertThat(parser.next()).map(SmtpReply::code).contains(220);

        assertThatThrownBy(() -> feed("250 flood\r\n")).isInstanceOf(SmtpProtocolException.class)
                .hasMessageContaining("unsolicited reply");
    }

    @Test
    void shouldQueueNoMoreRepliesThanCommandsWerePipelined() {
        parser.expect(3);
        byte[] flood = "250 ok\r\n".repeat(10_000).getBytes(StandardCharsets.US_ASCII);

        assertThatThrownBy(() -> parser.feed(flood)).isInstanceOf(SmtpProtocolException.class)
                .hasMessageContaining("unsolicited reply");
        assertThat(parser.queued()).isEqualTo(3);
    }

    @Test
    void shouldRefuseAnUnsolicitedMultiLineReplyAtItsFirstLine() {
        assertThatThrownBy(() -> feed("250-more\r\n")).isInstanceOf(SmtpProtocolException.class)
                .hasMessageContaining("unsolicited reply");
    }

    @Test
    void shouldRefuseAnEndlessMultiLineReplyAfterTheLineCap() {
        parser.expect(1);
        feed("250-line\r\n".repeat(ReplyParser.MAX_LINES - 1));

        assertThatThrownBy(() -> feed("250-line\r\n250-line\r\n")).isInstanceOf(SmtpProtocolException.class)
                .hasMessageContaining("longer than " + ReplyParser.MAX_LINES + " lines");
        assertThat(ReplyParser.MAX_LINES).isEqualTo(100);
    }

    @Test
    void shouldBoundTheTextOfQueuedReplies() {
        parser.expect(1_000);
        String longReply = ("250-" + "x".repeat(ReplyParser.MAX_LINE - 10) + "\r\n").repeat(50) + "250 end\r\n";

        assertThatThrownBy(() -> {
            for (int i = 0; i < 1_000; i++) {
                feed(longReply);
            }
        }).isInstanceOf(SmtpProtocolException.class).hasMessageContaining("octets of replies buffered");
        assertThat(parser.buffered()).isLessThanOrEqualTo(ReplyParser.MAX_BUFFERED + ReplyParser.MAX_LINE);
    }

    @Test
    void shouldGiveBackTheBudgetOfRepliesTaken() {
        parser.expect(1_000);
        String reply = ("250-" + "x".repeat(1000) + "\r\n").repeat(10) + "250 end\r\n";
        for (int i = 0; i < 1_000; i++) {
            feed(reply);
            assertThat(parser.next()).isPresent();
        }
        assertThat(parser.buffered()).isZero();
    }

    @Test
    void shouldDropWhatFollowsTheStartTlsReplyUntilReset() {
        parser.expectThenSilence();
        feed("220 go ahead\r\n550 5.5.1 injected\r\n250 more\r\n");

        assertThat(parser.next()).map(SmtpReply::code).contains(220);
        assertThat(parser.next()).isEmpty();
        parser.reset();
        parser.expect(1);
        feed("250 after tls\r\n");
        assertThat(parser.next()).map(SmtpReply::code).contains(250);
    }

    @Test
    void shouldGoOnReadingWhenStartTlsIsRefused() {
        parser.expectThenSilence();
        feed("454 4.7.0 TLS not available\r\n");
        assertThat(parser.next()).map(SmtpReply::code).contains(454);

        parser.expect(1);
        feed("221 bye\r\n");
        assertThat(parser.next()).map(SmtpReply::code).contains(221);
    }

    @Test
    void shouldNotShowControlCharactersOfTheServerInErrors() {
        parser.expect(1);
        assertThatThrownBy(() -> feed("HTTP/1.1 \u001b[31m\r\n")).isInstanceOf(SmtpProtocolException.class)
                .hasMessageNotContaining("\u001b");
    }

    @Test
    void shouldClassifyReplies() {
        assertThat(DeliveryStatus.of(SmtpReply.local(250, "ok").code())).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(DeliveryStatus.of(SmtpReply.local(451, "later").code())).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(DeliveryStatus.of(SmtpReply.local(550, "no").code())).isEqualTo(DeliveryStatus.PERMANENT);
        assertThat(DeliveryStatus.of(SmtpReply.local(600, "??").code())).isEqualTo(DeliveryStatus.TRANSIENT);
    }

    @Test
    void shouldTakeTheEnhancedStatusOnceWhereTheReplyIsRead() {
        assertThat(new SmtpReply(550, List.of("5.1.1 user unknown")).enhancedStatus()).isEqualTo("5.1.1");
        assertThat(new SmtpReply(452, List.of("4.2.2 mailbox full", "4.2.2 try later")).enhancedStatus())
                .isEqualTo("4.2.2");
        assertThat(new SmtpReply(550, List.of("user unknown")).enhancedStatus()).isNull();
        assertThat(new SmtpReply(550, List.of("5.1.1-no space")).enhancedStatus()).isNull();
        assertThat(new SmtpReply(250, List.of("2.0.0")).enhancedStatus()).isEqualTo("2.0.0");
        assertThat(new SmtpReply(451, List.of("4.7.1 slow down")).diagnostic(Phase.RCPT))
                .isEqualTo(new Diagnostic(Phase.RCPT, 451, "4.7.1", "451 4.7.1 slow down"));
    }

    private void feed(String text) {
        parser.feed(text.getBytes(StandardCharsets.US_ASCII));
    }
}
