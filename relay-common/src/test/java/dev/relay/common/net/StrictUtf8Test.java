package dev.relay.common.net;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class StrictUtf8Test {

    @Test
    void shouldDecodeValidUtf8() {
        assertThat(StrictUtf8.decode("MAIL FROM:<jörg@example.test>".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("MAIL FROM:<jörg@example.test>");
        assertThat(StrictUtf8.decode(new byte[0])).isEmpty();
    }

    @Test
    void shouldRefuseWhatALenientDecoderWouldReplace() {
        byte[] latin1 = "jörg".getBytes(StandardCharsets.ISO_8859_1);
        byte[] overlongSlash = {(byte) 0xC0, (byte) 0xAF};
        byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80};
        byte[] truncated = {'a', (byte) 0xE2, (byte) 0x82};
        assertThat(StrictUtf8.decode(latin1)).isNull();
        assertThat(StrictUtf8.decode(overlongSlash)).isNull();
        assertThat(StrictUtf8.decode(surrogate)).isNull();
        assertThat(StrictUtf8.decode(truncated)).isNull();
        assertThat(StrictUtf8.decode(null)).isNull();
    }
}
