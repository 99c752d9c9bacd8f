package dev.relay.ingress.smtp.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DataDecoderTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static DataDecoder decodeAll(String wire) {
        DataDecoder decoder = new DataDecoder(1024, new byte[0]);
        byte[] bytes = b(wire);
        decoder.feed(bytes, 0, bytes.length);
        return decoder;
    }

    @Test
    void shouldEndOnlyAtCrlfDotCrlfAndUnstuffDots() {
        DataDecoder d = decodeAll("Subject: x\r\n\r\n..leading dot\r\n.\r\n");
        assertThat(d.done()).isTrue();
        assertThat(d.outcome()).isEqualTo(DataDecoder.Outcome.OK);
        assertThat(new String(d.message(), StandardCharsets.ISO_8859_1)).isEqualTo("Subject: x\r\n\r\n.leading dot\r\n");
    }

    @Test
    void shouldReturnTheBytesAfterTheEndForTheNextCommand() {
        DataDecoder decoder = new DataDecoder(1024, new byte[0]);
        byte[] bytes = b("body\r\n.\r\nQUIT\r\n");
        int end = decoder.feed(bytes, 0, bytes.length);
        assertThat(new String(bytes, end, bytes.length - end, StandardCharsets.ISO_8859_1)).isEqualTo("QUIT\r\n");
    }

    @Test
    void shouldFindTheEndAcrossChunkBoundaries() {
        DataDecoder decoder = new DataDecoder(1024, new byte[0]);
        String wire = "line\r\n.\r\n";
        int end = -1;
        for (int i = 0; i < wire.length(); i++) {
            end = decoder.feed(b(wire), i, i + 1);
        }
        assertThat(end).isEqualTo(wire.length());
        assertThat(decoder.message()).isEqualTo(b("line\r\n"));
    }

    @Test
    void shouldKeepEightBitBytesUnchanged() {
        byte[] body = {(byte) 0xC3, (byte) 0xA9, (byte) 0xFF, 0x00, 'x', '\r', '\n'};
        DataDecoder decoder = new DataDecoder(1024, new byte[0]);
        decoder.feed(body, 0, body.length);
        decoder.feed(b(".\r\n"), 0, 3);
        assertThat(decoder.message()).isEqualTo(body);
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
        assertThat(decoder.outcome()).isEqualTo(DataDecoder.Outcome.BARE_LINE_ENDING);
    }

    @Test
    void shouldDiscardBeyondTheSizeLimitButReadToTheEnd() {
        DataDecoder decoder = new DataDecoder(10, b("Rcvd: 1\r\n"));
        byte[] bytes = b("0123456789abcdef\r\n.\r\n");
        assertThat(decoder.feed(bytes, 0, bytes.length)).isEqualTo(bytes.length);
        assertThat(decoder.outcome()).isEqualTo(DataDecoder.Outcome.TOO_BIG);
        assertThat(decoder.message().length).isLessThanOrEqualTo(10);
    }

    @Test
    void shouldPrependTheTraceHeader() {
        DataDecoder decoder = new DataDecoder(1024, b("Received: x\r\n"));
        byte[] bytes = b("Subject: y\r\n.\r\n");
        decoder.feed(bytes, 0, bytes.length);
        assertThat(decoder.message()).isEqualTo(b("Received: x\r\nSubject: y\r\n"));
    }
}
