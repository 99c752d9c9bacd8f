package dev.relay.delivery.transport;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link ReplyParser} with whatever a receiving server may send (issue #12 item 2). Without
 * {@code JAZZER_FUZZ} this runs as a regression test over the seeds and kept findings in
 * {@code ReplyParserFuzzTestInputs/parseAnyReplies/}; {@code mvn verify -Pfuzz} fuzzes for 30 s (bench/README.md).
 *
 * <p>Input: byte 0 is how many replies the client asked for (commands sent); byte 1 the size of the pieces the
 * bytes arrive in (bits 0–5), whether replies are taken as they come (bit 6) and whether the first command was
 * STARTTLS (bit 7); the rest is what the server sends.
 *
 * <p>Invariants: the only exception is {@link SmtpProtocolException}, whose message holds no control character
 * (it reaches logs and events); no reply has more than {@link ReplyParser#MAX_LINES} lines or a line longer than
 * {@link ReplyParser#MAX_LINE}; never more replies come out or wait in the queue than were asked for; the text
 * held stays under {@link ReplyParser#MAX_BUFFERED} plus one line; a reset forgets everything.
 */
class ReplyParserFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void parseAnyReplies(byte[] input) {
        if (input.length < 2) {
            return;
        }
        int asked = input[0] & 0xff;
        int piece = 1 + (input[1] & 0x3f);
        boolean takeAsTheyCome = (input[1] & 0x40) != 0;
        ReplyParser parser = new ReplyParser();
        if ((input[1] & 0x80) != 0) {
            parser.expectThenSilence();
            asked++;
        }
        parser.expect(input[0] & 0xff);
        int taken = 0;
        try {
            for (int i = 2; i < input.length; i += piece) {
                parser.feed(Arrays.copyOfRange(input, i, Math.min(input.length, i + piece)));
                assertBounded(parser, asked, taken);
                if (takeAsTheyCome) {
                    taken += drain(parser);
                }
            }
        } catch (SmtpProtocolException e) {
            assertThat(e.getMessage()).isNotBlank();
            assertThat(e.getMessage().chars().noneMatch(c -> c < 0x20 || c == 0x7f)).isTrue();
        }
        assertBounded(parser, asked, taken);
        taken += drain(parser);
        assertThat(taken).isLessThanOrEqualTo(asked);

        parser.reset();
        assertThat(parser.queued()).isZero();
        assertThat(parser.buffered()).isZero();
        assertThat(parser.outstanding()).isZero();
        assertThat(parser.next()).isEmpty();
    }

    private static void assertBounded(ReplyParser parser, int asked, int taken) {
        assertThat(parser.queued()).isLessThanOrEqualTo(asked - taken);
        assertThat(parser.buffered()).isLessThanOrEqualTo(ReplyParser.MAX_BUFFERED + ReplyParser.MAX_LINE);
    }

    private static int drain(ReplyParser parser) {
        int n = 0;
        for (var reply = parser.next(); reply.isPresent(); reply = parser.next()) {
            SmtpReply r = reply.get();
            assertThat(r.code()).isBetween(0, 999);
            assertThat(r.lines()).isNotEmpty().hasSizeLessThanOrEqualTo(ReplyParser.MAX_LINES);
            assertThat(r.lines()).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(ReplyParser.MAX_LINE));
            n++;
        }
        return n;
    }
}
