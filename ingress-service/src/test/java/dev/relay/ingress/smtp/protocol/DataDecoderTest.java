package dev.relay.ingress.smtp.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class DataDecoderTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static DataDecoder decoder(long maxSize, byte[] prefix) {
        return new DataDecoder(new MessageBuffer(maxSize, 1000, MemoryBudget.unlimited(), prefix));
    }

    private static DataDecoder decodeAll(String wire) {
        DataDecoder decoder = decoder(1024, new byte[0]);
        byte[] bytes = b(wire);
        decoder.feed(bytes, 0, bytes.length);
        return decoder;
    }

    @Test
    void shouldEndOnlyAtCrlfDotCrlfAndUnstuffDots() {
        DataDecoder d = decodeAll("Subject: x\r\n\r\n..leading dot\r\n.\r\n");
        assertThat(d.done()).isTrue();
        assertThat(d.buffer().outcome()).isEqualTo(MessageBuffer.Outcome.OK);
        assertThat(new String(d.buffer().bytes(), StandardCharsets.ISO_8859_1)).isEqualTo("Subject: x\r\n\r\n.leading dot\r\n");
    }

    @Test
    void shouldReturnTheBytesAfterTheEndForTheNextCommand() {
        DataDecoder decoder = decoder(1024, new byte[0]);
        byte[] bytes = b("body\r\n.\r\nQUIT\r\n");
        int end = decoder.feed(bytes, 0, bytes.length);
        assertThat(new String(bytes, end, bytes.length - end, StandardCharsets.ISO_8859_1)).isEqualTo("QUIT\r\n");
    }

    @Test
    void shouldFindTheEndAcrossChunkBoundaries() {
        DataDecoder decoder = decoder(1024, new byte[0]);
        String wire = "line\r\n.\r\n";
        int end = -1;
        for (int i = 0; i < wire.length(); i++) {
            end = decoder.feed(b(wire), i, i + 1);
        }
        assertThat(end).isEqualTo(wire.length());
        assertThat(decoder.buffer().bytes()).isEqualTo(b("line\r\n"));
    }

    /**
     * The decoder takes the rest of a line in one piece: whatever the chunking of the socket reads, the result must
     * be the same as the plain RFC 5321 §4.5.2 rule (drop one leading dot per line) applied to the whole message.
     */
    @Test
    void shouldDecodeTheSameWhateverTheChunkSizes() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            ByteArrayOutputStream message = new ByteArrayOutputStream();
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            int lines = random.nextInt(40);
            for (int l = 0; l < lines; l++) {
                byte[] line = new byte[random.nextInt(120)];
                for (int i = 0; i < line.length; i++) {
                    int pick = random.nextInt(20);
                    line[i] = (byte) (pick == 0 ? '.' : pick == 1 ? 0xE9 : 'a' + random.nextInt(26));
                }
                message.writeBytes(line);
                message.writeBytes(b("\r\n"));
                if (line.length > 0 && line[0] == '.') {
                    wire.write('.'); // stuffed by the client
                }
                wire.writeBytes(line);
                wire.writeBytes(b("\r\n"));
            }
            wire.writeBytes(b(".\r\nNOOP\r\n"));
            byte[] bytes = wire.toByteArray();
            DataDecoder decoder = decoder(1 << 20, new byte[0]);
            int from = 0;
            int end = -1;
            while (end < 0 && from < bytes.length) {
                int to = Math.min(bytes.length, from + 1 + random.nextInt(round % 2 == 0 ? 3 : 700));
                end = decoder.feed(bytes, from, to);
                from = to;
            }
            assertThat(end).isPositive();
            assertThat(decoder.buffer().outcome()).isEqualTo(MessageBuffer.Outcome.OK);
            assertThat(decoder.buffer().bytes()).isEqualTo(message.toByteArray());
            assertThat(new String(bytes, end, bytes.length - end, StandardCharsets.ISO_8859_1)).isEqualTo("NOOP\r\n");
        }
    }

    @Test
    void shouldKeepEightBitBytesUnchanged() {
        byte[] body = {(byte) 0xC3, (byte) 0xA9, (byte) 0xFF, 0x00, 'x', '\r', '\n'};
        DataDecoder decoder = decoder(1024, new byte[0]);
        decoder.feed(body, 0, body.length);
        decoder.feed(b(".\r\n"), 0, 3);
        assertThat(decoder.buffer().bytes()).isEqualTo(body);
    }

    /** SMTP smuggling vectors (CVE-2023-51764 family): none of these may end the data. */
    @ParameterizedTest
    @ValueSource(strings = {
            "a\n.\nMAIL FROM:<x@y>\r\n",
            "a\n.\r\nMAIL FROM:<x@y>\r\n",
            "a\r.\r\nMAIL FROM:<x@y>\r\n",
            "a\r\n.\nMAIL FROM:<x@y>\r\n",
            "a\r\n.\rMAIL FROM:<x@y>\r\n"
    })
    void shouldNotEndDataOnSmugglingSequences(String wire) {
        DataDecoder decoder = decodeAll(wire);
        assertThat(decoder.done()).isFalse();
        decoder.feed(b(".\r\n"), 0, 3);
        assertThat(decoder.done()).isTrue();
        assertThat(decoder.buffer().outcome()).isEqualTo(MessageBuffer.Outcome.BARE_LINE_ENDING);
    }

    @Test
    void shouldDiscardBeyondTheSizeLimitButReadToTheEnd() {
        DataDecoder decoder = decoder(10, b("Rcvd: 1\r\n"));
        byte[] bytes = b("0123456789abcdef\r\n.\r\n");
        assertThat(decoder.feed(bytes, 0, bytes.length)).isEqualTo(bytes.length);
        assertThat(decoder.buffer().outcome()).isEqualTo(MessageBuffer.Outcome.TOO_BIG);
        assertThat(decoder.buffer().bytes().length).isLessThanOrEqualTo(10);
    }

    @Test
    void shouldRefuseTextLinesLongerThanTheLimit() {
        DataDecoder ok = decoder(10_000, new byte[0]);
        byte[] line998 = b("x".repeat(998) + "\r\n.\r\n");
        ok.feed(line998, 0, line998.length);
        assertThat(ok.buffer().outcome()).isEqualTo(MessageBuffer.Outcome.OK);
        DataDecoder tooLong = decoder(10_000, new byte[0]);
        byte[] line999 = b("x".repeat(999) + "\r\n.\r\n");
        tooLong.feed(line999, 0, line999.length);
        assertThat(tooLong.done()).isTrue();
        assertThat(tooLong.buffer().outcome()).isEqualTo(MessageBuffer.Outcome.LINE_TOO_LONG);
    }

    @Test
    void shouldStopKeepingBytesWhenTheSharedMemoryBudgetIsSpent() {
        MemoryBudget budget = new MemoryBudget(64 * 1024);
        MessageBuffer first = new MessageBuffer(1 << 20, 1000, budget, new byte[0]);
        first.write(b("a\r\n"), 0, 3);
        MessageBuffer second = new MessageBuffer(1 << 20, 1000, budget, new byte[0]);
        second.write(b("b\r\n"), 0, 3);
        assertThat(first.outcome()).isEqualTo(MessageBuffer.Outcome.OK);
        assertThat(second.outcome()).isEqualTo(MessageBuffer.Outcome.NO_MEMORY);
        first.release();
        assertThat(budget.used()).isZero();
        assertThat(budget.exhausted()).isFalse();
    }

    @Test
    void shouldRefuseBareLineEndingsInRawChunksAcrossChunkBoundaries() {
        MessageBuffer split = new MessageBuffer(1024, 1000, MemoryBudget.unlimited(), new byte[0]);
        split.write(b("a\r"), 0, 2);
        split.write(b("\nb\r\n"), 0, 4);
        assertThat(split.outcome()).isEqualTo(MessageBuffer.Outcome.OK);
        MessageBuffer bare = new MessageBuffer(1024, 1000, MemoryBudget.unlimited(), new byte[0]);
        bare.write(b("a\nb\r\n"), 0, 5);
        assertThat(bare.outcome()).isEqualTo(MessageBuffer.Outcome.BARE_LINE_ENDING);
        MessageBuffer trailingCr = new MessageBuffer(1024, 1000, MemoryBudget.unlimited(), new byte[0]);
        trailingCr.write(b("a\r"), 0, 2);
        assertThat(trailingCr.outcome()).isEqualTo(MessageBuffer.Outcome.BARE_LINE_ENDING);
    }

    @Test
    void shouldPrependTheTraceHeader() {
        DataDecoder decoder = decoder(1024, b("Received: x\r\n"));
        byte[] bytes = b("Subject: y\r\n.\r\n");
        decoder.feed(bytes, 0, bytes.length);
        assertThat(decoder.buffer().bytes()).isEqualTo(b("Received: x\r\nSubject: y\r\n"));
    }
}
