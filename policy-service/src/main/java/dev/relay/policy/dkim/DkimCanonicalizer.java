package dev.relay.policy.dkim;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * RFC 6376 §3.4 canonicalisation, on bytes: header fields (simple: unchanged; relaxed: name lower-cased, unfolded,
 * white-space runs made one space, white space around the colon and at the end removed) and the body hash
 * (simple: trailing empty lines removed, an empty body is one CRLF; relaxed: also trailing white space of every
 * line removed and white-space runs made one space, an empty body is empty). The body is hashed where it lies in
 * the message, through a small buffer, never copied as a whole.
 */
public final class DkimCanonicalizer {

    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte SP = ' ';
    private static final byte[] CRLF = {CR, LF};

    private DkimCanonicalizer() {
    }

    /**
     * Appends the canonical form of the field at {@code [start, end)} of {@code m}, ending in CRLF.
     */
    public static void header(byte[] m, int start, int end, boolean relaxed, ByteArrayOutputStream out) {
        if (!relaxed) {
            out.write(m, start, end - start);
            if (end - start < 2 || m[end - 2] != CR || m[end - 1] != LF) {
                out.writeBytes(CRLF);
            }
            return;
        }
        int colon = start;
        while (colon < end && m[colon] != ':') {
            colon++;
        }
        int nameEnd = colon;
        while (nameEnd > start && wsp(m[nameEnd - 1])) {
            nameEnd--;
        }
        for (int i = start; i < nameEnd; i++) {
            byte b = m[i];
            out.write(b >= 'A' && b <= 'Z' ? b + 32 : b);
        }
        out.write(':');
        boolean pendingSpace = false;
        boolean started = false;
        for (int i = colon + 1; i < end; i++) {
            byte b = m[i];
            if (b == CR && i + 1 < end && m[i + 1] == LF) {
                i++; // unfold: the CRLF goes, the white space after it is a run like any other
                continue;
            }
            if (wsp(b)) {
                pendingSpace = started;
                continue;
            }
            if (pendingSpace) {
                out.write(SP);
                pendingSpace = false;
            }
            out.write(b);
            started = true;
        }
        out.writeBytes(CRLF);
    }

    /** The SHA-256 of the canonical body: the bytes from {@code bodyStart} to the end of {@code m}. */
    public static byte[] bodyHash(byte[] m, int bodyStart, boolean relaxed) {
        MessageDigest digest = sha256();
        if (relaxed) {
            relaxedBody(m, bodyStart, digest);
        } else {
            simpleBody(m, bodyStart, digest);
        }
        return digest.digest();
    }

    private static void simpleBody(byte[] m, int start, MessageDigest digest) {
        int end = m.length;
        while (end - start >= 4 && m[end - 4] == CR && m[end - 3] == LF && m[end - 2] == CR && m[end - 1] == LF) {
            end -= 2;
        }
        if (end == start) {
            digest.update(CRLF);
            return;
        }
        digest.update(m, start, end - start);
        if (end - start < 2 || m[end - 2] != CR || m[end - 1] != LF) {
            digest.update(CRLF);
        }
    }

    private static void relaxedBody(byte[] m, int start, MessageDigest digest) {
        Chunk out = new Chunk(digest);
        int pendingEmpty = 0;
        int pos = start;
        while (pos < m.length) {
            int eol = MessageParts.crlf(m, pos);
            int lineEnd = eol < 0 ? m.length : eol;
            int last = lineEnd;
            while (last > pos && wsp(m[last - 1])) {
                last--;
            }
            if (last == pos) {
                pendingEmpty++; // empty lines count only when something follows them
            } else {
                for (; pendingEmpty > 0; pendingEmpty--) {
                    out.write(CR);
                    out.write(LF);
                }
                boolean inSpace = false;
                for (int i = pos; i < last; i++) {
                    byte b = m[i];
                    if (wsp(b)) {
                        inSpace = true;
                        continue;
                    }
                    if (inSpace) {
                        out.write(SP);
                        inSpace = false;
                    }
                    out.write(b);
                }
                out.write(CR);
                out.write(LF);
            }
            pos = eol < 0 ? m.length : eol + 2;
        }
        out.flush();
    }

    private static boolean wsp(byte b) {
        return b == SP || b == '\t';
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }

    /** A small buffer in front of a digest, so that the byte-wise relaxed body does not update it per byte. */
    private static final class Chunk {
        private final MessageDigest digest;
        private final byte[] buffer = new byte[8192];
        private int used;

        Chunk(MessageDigest digest) {
            this.digest = digest;
        }

        void write(byte b) {
            if (used == buffer.length) {
                flush();
            }
            buffer[used++] = b;
        }

        void flush() {
            digest.update(buffer, 0, used);
            used = 0;
        }
    }
}
