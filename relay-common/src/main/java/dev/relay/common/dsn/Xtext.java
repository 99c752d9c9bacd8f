package dev.relay.common.dsn;

import java.nio.charset.StandardCharsets;

/**
 * RFC 3461 §4 xtext, the encoding of the DSN parameters ENVID and ORCPT: the ingress decodes what clients send,
 * the delivery encodes again towards the next hop and the DSN shows ENVID encoded. One place for both directions.
 *
 * <p>The two directions are not inverse for non-ASCII text, and that is kept on purpose: {@link #encode} writes
 * each UTF-8 byte of a character outside printable ASCII as {@code +HH}, while {@link #decode} turns each
 * {@code +HH} into the one character of that code (as the ingress always did), so what an ingress received as
 * xtext travels on as the same {@code +HH} sequence only when it was ASCII.
 */
public final class Xtext {

    private Xtext() {
    }

    /** Printable ASCII except '+' and '=' as is, everything else (as UTF-8 bytes) as +HH. */
    public static String encode(String value) {
        StringBuilder s = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c >= 33 && c <= 126 && c != '+' && c != '=') {
                s.append((char) c);
            } else {
                s.append('+').append(String.format("%02X", c));
            }
        }
        return s.toString();
    }

    /** Decodes xtext ("+HH" escapes, upper-case hex; printable US-ASCII but "=" and a bare "+"); null when invalid. */
    public static String decode(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '+') {
                if (i + 2 >= text.length()) {
                    return null;
                }
                String hex = text.substring(i + 1, i + 3);
                if (!hex.matches("[0-9A-F]{2}")) {
                    return null;
                }
                out.append((char) Integer.parseInt(hex, 16));
                i += 2;
            } else if (c < 33 || c > 126 || c == '=') {
                return null;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
