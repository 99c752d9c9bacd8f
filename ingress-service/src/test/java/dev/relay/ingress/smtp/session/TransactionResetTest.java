package dev.relay.ingress.smtp.session;

import dev.relay.common.rules.RelayRules;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.MemoryBudget;
import dev.relay.ingress.smtp.protocol.Reply;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 12, item 1: every way a transaction ends gives its memory back (one reset path), with a real
 * {@link MemoryBudget}; and item 10: a published message's memory stays reserved until the producer is done.
 */
class TransactionResetTest {

    /** 1 MiB: a leak of 64 KiB per round exhausts it in 16 rounds. */
    private final MemoryBudget budget = new MemoryBudget(1 << 20);
    private final SessionSettings settings = new SessionSettings("relay.test", 1 << 20, 10, 1000, 1000, 4096, 10,
            true, RelayRules.of(List.of("example.test"), List.of(), List.of("smtp-relay")), budget);

    private static Action line(SmtpSession s, String line) {
        return s.onLine(line.getBytes(StandardCharsets.UTF_8));
    }

    private static Reply reply(Action action) {
        return action instanceof Action.Send send ? send.reply() : ((Action.SendAndClose) action).reply();
    }

    /** MAIL, RCPT to a local domain, BDAT 1 and its one byte: a transaction holding a chunk buffer. */
    private static void openChunkedTransaction(SmtpSession s) {
        assertThat(reply(line(s, "MAIL FROM:<a@outside.example>")).code()).isEqualTo(250);
        assertThat(reply(line(s, "RCPT TO:<postmaster@example.test>")).code()).isEqualTo(250);
        Action.ReadChunk chunk = (Action.ReadChunk) line(s, "BDAT 1");
        assertThat(chunk.buffer()).as("memory left for the chunk (452 4.3.1 once leaked)").isNotNull();
        chunk.buffer().write((byte) 'x');
        assertThat(reply(s.onChunk(chunk)).code()).isEqualTo(250);
        assertThat(s.holdsMessage()).isTrue();
    }

    private void assertEveryRoundGivesItBack(Consumer<SmtpSession> end) {
        SmtpSession s = new SmtpSession(settings, Listener.RELAY, "192.0.2.1");
        line(s, "EHLO client.example");
        for (int round = 0; round < 3000; round++) {
            openChunkedTransaction(s);
            end.accept(s);
            assertThat(s.inTransaction()).as("no transaction survives a reset").isFalse();
        }
        assertThat(budget.used()).isZero();
        // and the next client still gets its DATA
        SmtpSession next = new SmtpSession(settings, Listener.RELAY, "192.0.2.2");
        line(next, "EHLO other.example");
        line(next, "MAIL FROM:<b@outside.example>");
        line(next, "RCPT TO:<postmaster@example.test>");
        assertThat(line(next, "DATA")).isInstanceOf(Action.ReadData.class);
    }

    @Test
    void shouldReleaseTheChunksOfATransactionEndedByEhlo() {
        assertEveryRoundGivesItBack(s -> assertThat(reply(line(s, "EHLO client.example")).code()).isEqualTo(250));
    }

    @Test
    void shouldReleaseTheChunksOfATransactionEndedByHelo() {
        assertEveryRoundGivesItBack(s -> assertThat(reply(line(s, "HELO client.example")).code()).isEqualTo(250));
    }

    @Test
    void shouldReleaseTheChunksOfATransactionEndedByRset() {
        assertEveryRoundGivesItBack(s -> assertThat(reply(line(s, "RSET")).code()).isEqualTo(250));
    }

    @Test
    void shouldReleaseTheChunksOfATransactionEndedByStartTls() {
        SmtpSession s = new SmtpSession(settings, Listener.RELAY, "192.0.2.1");
        line(s, "EHLO client.example");
        openChunkedTransaction(s);
        assertThat(line(s, "STARTTLS")).isInstanceOf(Action.StartTls.class);
        assertThat(budget.used()).isZero();
        s.onTlsStarted();
        assertThat(s.inTransaction()).isFalse();
    }

    @Test
    void shouldReleaseTheChunksOfARefusedChunk() {
        MemoryBudget small = new MemoryBudget(1 << 20);
        SessionSettings tight = new SessionSettings("relay.test", 1 << 20, 10, 1000, 100, 4096, 10, true,
                RelayRules.of(List.of("example.test"), List.of(), List.of()), small);
        SmtpSession s = new SmtpSession(tight, Listener.RELAY, "192.0.2.1");
        line(s, "EHLO client.example");
        line(s, "MAIL FROM:<a@outside.example>");
        line(s, "RCPT TO:<postmaster@example.test>");
        Action.ReadChunk chunk = (Action.ReadChunk) line(s, "BDAT 3");
        chunk.buffer().write("a\nb".getBytes(StandardCharsets.US_ASCII), 0, 3); // bare LF: the chunk is refused
        assertThat(reply(s.onChunk(chunk)).code()).isEqualTo(550);
        assertThat(small.used()).isZero();
        assertThat(s.inTransaction()).isFalse();
    }

    @Test
    void shouldReleaseWhenClosedByTooManyErrors() {
        SessionSettings strict = new SessionSettings("relay.test", 1 << 20, 10, 2, 1000, 4096, 10, true,
                RelayRules.of(List.of("example.test"), List.of(), List.of()), budget);
        SmtpSession s = new SmtpSession(strict, Listener.RELAY, "192.0.2.1");
        line(s, "EHLO client.example");
        openChunkedTransaction(s);
        line(s, "BOGUS");
        assertThat(line(s, "BOGUS")).isInstanceOf(Action.SendAndClose.class);
        assertThat(budget.used()).isZero();
    }

    @Test
    void shouldReleaseTheDataBufferWhenTheConnectionCloses() {
        SmtpSession s = new SmtpSession(settings, Listener.RELAY, "192.0.2.1");
        line(s, "EHLO client.example");
        line(s, "MAIL FROM:<a@outside.example>");
        line(s, "RCPT TO:<postmaster@example.test>");
        DataDecoder decoder = ((Action.ReadData) line(s, "DATA")).decoder();
        byte[] part = "Subject: half\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        decoder.feed(part, 0, part.length);
        assertThat(budget.used()).isPositive();
        s.onClosed();
        assertThat(budget.used()).isZero();
    }

    @Test
    void shouldRefuseAndCloseOnABareLineFeed() {
        SmtpSession s = new SmtpSession(settings, Listener.RELAY, "192.0.2.1");
        line(s, "EHLO client.example");
        openChunkedTransaction(s);
        Action closing = s.onBareLineFeed();
        assertThat(closing).isInstanceOf(Action.SendAndClose.class);
        assertThat(reply(closing).code()).isEqualTo(500);
        assertThat(reply(closing).status()).isEqualTo("5.5.2");
        assertThat(budget.used()).isZero();
    }

    /** Item 10: the reply goes at the timeout, the memory only when the producer is done with the record. */
    @Test
    void shouldKeepAPublishedMessageReservedUntilTheProducerSettles() {
        SmtpSession s = new SmtpSession(settings, Listener.RELAY, "192.0.2.1");
        line(s, "EHLO client.example");
        line(s, "MAIL FROM:<a@outside.example>");
        line(s, "RCPT TO:<postmaster@example.test>");
        DataDecoder decoder = ((Action.ReadData) line(s, "DATA")).decoder();
        byte[] body = "Subject: t\r\n\r\nhi\r\n.\r\n".getBytes(StandardCharsets.US_ASCII);
        decoder.feed(body, 0, body.length);
        Action.Publish publish = (Action.Publish) s.onDataEnd(decoder);
        long reserved = budget.used();
        assertThat(reserved).isPositive();

        Reply timedOut = reply(s.onPublished(publish, false));
        assertThat(timedOut.code()).isEqualTo(451);
        assertThat(budget.used()).as("the record may still sit in the producer").isEqualTo(reserved);
        s.onClosed();
        assertThat(budget.used()).as("closing does not free what the producer holds").isEqualTo(reserved);

        s.onSettled(publish);
        assertThat(budget.used()).isZero();
        s.onSettled(publish);
        assertThat(budget.used()).as("exactly once").isZero();
    }

    @Test
    void shouldRefuseHeloNamesWithControlCharacters() {
        SmtpSession s = new SmtpSession(settings, Listener.RELAY, "192.0.2.1");
        for (String name : List.of("evil\u0007.example", "a\u001b[31m.example", "x\u2028y", "z\u202ey", "q\u0085r")) {
            Reply refused = reply(line(s, "EHLO " + name));
            assertThat(refused.code()).as(name).isEqualTo(501);
            assertThat(refused.status()).isEqualTo("5.5.2");
        }
        assertThat(s.heloName()).isNull();
        assertThat(reply(line(s, "EHLO client.example")).code()).isEqualTo(250);
    }
}
