package dev.relay.policy.dkim;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the header fields and the body of a message are, as offsets into its bytes: nothing is copied, so a large
 * body is hashed where it lies. The header section ends at the first empty line (RFC 5322 §2.1); a message without
 * one is all header and has an empty body. Bytes are never decoded: 8-bit header bytes stay what they are.
 *
 * @param fields    the header fields in order, each with its continuation lines
 * @param bodyStart the offset of the body (after the empty line); the message length when there is none
 */
public record MessageParts(List<Field> fields, int bodyStart) {

    private static final byte CR = '\r';
    private static final byte LF = '\n';

    /**
     * One header field: {@code [start, end)} of the message, its final CRLF included when it has one.
     *
     * @param name the field name in ASCII lower case; null when the line is not a field (no colon)
     */
    public record Field(String name, int start, int end) {
    }

    public static MessageParts of(byte[] m) {
        List<Field> fields = new ArrayList<>();
        int pos = 0;
        while (pos < m.length) {
            if (pos + 1 < m.length && m[pos] == CR && m[pos + 1] == LF) {
                return new MessageParts(List.copyOf(fields), pos + 2);
            }
            int eol = crlf(m, pos);
            int next = eol < 0 ? m.length : eol + 2;
            boolean continuation = m[pos] == ' ' || m[pos] == '\t';
            if (continuation && !fields.isEmpty()) {
                Field last = fields.remove(fields.size() - 1);
                fields.add(new Field(last.name(), last.start(), next));
            } else {
                fields.add(new Field(name(m, pos, eol < 0 ? m.length : eol), pos, next));
            }
            pos = next;
        }
        return new MessageParts(List.copyOf(fields), m.length);
    }

    /** How many fields carry this (lower-case) name. */
    public int count(String name) {
        int n = 0;
        for (Field f : fields) {
            if (name.equals(f.name())) {
                n++;
            }
        }
        return n;
    }

    /** The index of the CR of the next CRLF at or after {@code from}, or -1. */
    static int crlf(byte[] m, int from) {
        for (int i = from; i + 1 < m.length; i++) {
            if (m[i] == CR && m[i + 1] == LF) {
                return i;
            }
        }
        return -1;
    }

    /** The lower-cased bytes before the colon, white space before the colon dropped; null without a colon. */
    private static String name(byte[] m, int start, int lineEnd) {
        int colon = -1;
        for (int i = start; i < lineEnd; i++) {
            if (m[i] == ':') {
                colon = i;
                break;
            }
        }
        if (colon <= start) {
            return null;
        }
        int end = colon;
        while (end > start && (m[end - 1] == ' ' || m[end - 1] == '\t')) {
            end--;
        }
        StringBuilder out = new StringBuilder(end - start);
        for (int i = start; i < end; i++) {
            int c = m[i] & 0xff;
            out.append((char) (c >= 'A' && c <= 'Z' ? c + 32 : c));
        }
        return out.toString();
    }
}
