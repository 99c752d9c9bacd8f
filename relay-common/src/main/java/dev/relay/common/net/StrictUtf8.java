package dev.relay.common.net;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 decoding of bytes a peer sent (SMTP command lines, SASL payloads): malformed or unmappable input is
 * refused, never replaced by U+FFFD as {@code new String(bytes, UTF_8)} would do, so that what the relay checks is
 * exactly what the peer sent.
 */
public final class StrictUtf8 {

    private StrictUtf8() {
    }

    /** The text, or null when {@code bytes} is null or not valid UTF-8. */
    public static String decode(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
