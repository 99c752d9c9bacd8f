package dev.relay.delivery.transport;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplyParserTest {

    private final ReplyParser parser = new ReplyParser();

    @Test
    void shouldJoinMultiLineReplyFedInPieces() {
        feed("250-mx.example.org hello\r\n250-8BIT");
        assertThat(parser.next()).isEmpty();

        feed("MIME\r\n250 SIZE 1000\r\n");

        assertThat(parser.next()).contains(new SmtpReply(250, List.of("mx.example.org hello", "8BITMIME",
                "SIZE 1000")));
    }

    @Test
    void shouldAcceptCodeWithoutText() {
        feed("354\r\n");

        assertThat(parser.next()).contains(new SmtpReply(354, List.of("")));
    }

    @Test
    void shouldQueueRepliesThatArriveTogether() {
        feed("250 ok\r\n221 bye\r\n");

        assertThat(parser.next()).map(SmtpReply::code).contains(250);
        assertThat(parser.next()).map(SmtpReply::code).contains(221);
    }

    @Test
    void shouldRefuseGarbage() {
        assertThatThrownBy(() -> feed("HTTP/1.1 400 Bad Request\r\n")).isInstanceOf(SmtpProtocolException.class);
    }

    @Test
    void shouldRefuseChangingCodeInsideReply() {
        assertThatThrownBy(() -> feed("250-a\r\n550 b\r\n")).isInstanceOf(SmtpProtocolException.class);
    }

    @Test
    void shouldRefuseEndlessLine() {
        assertThatThrownBy(() -> feed("250 " + "x".repeat(ReplyParser.MAX_LINE)))
                .isInstanceOf(SmtpProtocolException.class);
    }

    @Test
    void shouldForgetBufferedBytesOnReset() {
        feed("250 injected before TLS\r\n");

        parser.reset();

        assertThat(parser.next()).isEmpty();
    }

    @Test
    void shouldClassifyReplies() {
        assertThat(DeliveryStatus.of(SmtpReply.local(250, "ok"))).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(DeliveryStatus.of(SmtpReply.local(451, "later"))).isEqualTo(DeliveryStatus.TRANSIENT);
        assertThat(DeliveryStatus.of(SmtpReply.local(550, "no"))).isEqualTo(DeliveryStatus.PERMANENT);
        assertThat(DeliveryStatus.of(SmtpReply.local(600, "??"))).isEqualTo(DeliveryStatus.TRANSIENT);
    }

    private void feed(String text) {
        parser.feed(text.getBytes(StandardCharsets.US_ASCII));
    }
}
