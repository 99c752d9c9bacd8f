package dev.relay.ingress.auth.sasl;

import dev.relay.common.net.StrictUtf8;

import java.util.Base64;

/** Base64 decoding of SASL responses (RFC 4954 §4): strict, UTF-8, "*" cancels. */
final class SaslDecoding {

    private SaslDecoding() {
    }

    static boolean isCancel(byte[] line) {
        return line.length == 1 && line[0] == '*';
    }

    /** The decoded bytes, or null for a cancel or anything that is not valid base64. */
    static byte[] decodeBytes(byte[] line) {
        if (isCancel(line)) {
            return null;
        }
        try {
            return Base64.getDecoder().decode(line);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The decoded text, or null for a cancel or anything that is not valid base64 of UTF-8. */
    static String decode(byte[] line) {
        if (isCancel(line)) {
            return null;
        }
        if (line.length == 1 && line[0] == '=') {
            return ""; // an empty initial response
        }
        try {
            byte[] raw = Base64.getDecoder().decode(line);
            return StrictUtf8.decode(raw);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
