package dev.relay.delivery.transport;

/**
 * Turns stored message bytes into the DATA stream of RFC 5321 §4.5.2: a line that begins with '.' gets one more
 * '.', the content ends with CRLF, and {@code .CRLF} terminates it. Nothing else is touched: no line-ending
 * conversion, no re-encoding, 8-bit bytes pass as they are. The receiver removes exactly the dots we add, so it
 * stores the same bytes we were given.
 */
public final class DotStuffer {

    private static final byte[] TERMINATOR = {'.', '\r', '\n'};

    private DotStuffer() {
    }

    public static byte[] stuff(byte[] message) {
        int n = message.length;
        int extra = 0;
        for (int i = 0; i < n; i++) {
            if (message[i] == '.' && atLineStart(message, i)) {
                extra++;
            }
        }
        boolean endsWithCrlf = n >= 2 && message[n - 2] == '\r' && message[n - 1] == '\n';
        byte[] out = new byte[n + extra + (endsWithCrlf ? 0 : 2) + TERMINATOR.length];
        int o = 0;
        int from = 0; // the bytes between two stuffed dots are copied in one piece
        for (int i = 0; i < n && extra > 0; i++) {
            if (message[i] == '.' && atLineStart(message, i)) {
                System.arraycopy(message, from, out, o, i - from);
                o += i - from;
                out[o++] = '.';
                from = i;
                extra--;
            }
        }
        System.arraycopy(message, from, out, o, n - from);
        o += n - from;
        if (!endsWithCrlf) {
            out[o++] = '\r';
            out[o++] = '\n';
        }
        System.arraycopy(TERMINATOR, 0, out, o, TERMINATOR.length);
        return out;
    }

    /**
     * A line starts at offset 0 and after every LF. The stored bytes are CRLF-only (the ingress refuses bare LF),
     * so "after LF" is "after CRLF"; treating a stray bare LF as a line end too is the safe side, because a
     * receiver that does so would otherwise see a lone '.' line where we meant content.
     */
    private static boolean atLineStart(byte[] message, int i) {
        return i == 0 || message[i - 1] == '\n';
    }
}
