package dev.relay.ingress.smtp.protocol;

import java.io.ByteArrayOutputStream;

/**
 * Decodes the DATA section (RFC 5321 §4.1.1.4, §4.5.2) from raw socket bytes.
 *
 * <ul>
 *   <li>Only {@code CRLF . CRLF} ends the data. A bare LF or bare CR anywhere is recorded as an error and the
 *       decoder keeps reading to the real end, so that {@code LF . LF} or {@code LF . CRLF} can never end a
 *       message here while ending it somewhere else (SMTP smuggling, CVE-2023-51764/51765/51766).</li>
 *   <li>Dot-unstuffing: a leading dot on a line is removed.</li>
 *   <li>Memory is bounded: beyond {@code maxSize} bytes the content is discarded (still read to the end) and the
 *       result is {@link Outcome#TOO_BIG}.</li>
 * </ul>
 * The decoded message includes the CRLF of its last line and excludes the terminating dot line.
 */
public final class DataDecoder {

    public enum Outcome { OK, TOO_BIG, BARE_LINE_ENDING }

    private enum State { LINE_START, IN_LINE, CR, DOT, DOT_CR, DONE }

    private final long maxSize;
    private final ByteArrayOutputStream out;
    private State state = State.LINE_START;
    private long size;
    private boolean tooBig;
    private boolean bareLineEnding;

    /**
     * @param maxSize     largest message accepted, in bytes after unstuffing
     * @param initialPrefix bytes to start the message with (our Received: header), counted in the size
     */
    public DataDecoder(long maxSize, byte[] initialPrefix) {
        this.maxSize = maxSize;
        this.out = new ByteArrayOutputStream(Math.min(64 * 1024, (int) Math.min(maxSize, Integer.MAX_VALUE)));
        emit(initialPrefix, 0, initialPrefix.length);
    }

    /**
     * Feeds bytes. Returns the index just past the terminating {@code CRLF.CRLF} when the data ended inside
     * {@code bytes} (the rest belongs to the next command), or -1 when more bytes are needed.
     */
    public int feed(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = bytes[i];
            switch (state) {
                case LINE_START -> {
                    if (b == '.') {
                        state = State.DOT;
                    } else {
                        regular(b);
                    }
                }
                case IN_LINE -> regular(b);
                case CR -> {
                    if (b == '\n') {
                        emit(b);
                        state = State.LINE_START;
                    } else {
                        bareLineEnding = true;
                        regular(b);
                    }
                }
                case DOT -> {
                    if (b == '\r') {
                        state = State.DOT_CR;
                    } else {
                        regular(b); // a stuffed dot: drop it, keep the rest of the line
                    }
                }
                case DOT_CR -> {
                    if (b == '\n') {
                        state = State.DONE;
                        return i + 1;
                    }
                    bareLineEnding = true;
                    emit((byte) '.');
                    emit((byte) '\r');
                    regular(b);
                }
                case DONE -> {
                    return i;
                }
            }
        }
        return -1;
    }

    private void regular(byte b) {
        if (b == '\r') {
            emit(b);
            state = State.CR;
        } else if (b == '\n') {
            // bare LF: refused, and deliberately NOT treated as a line start (no LF.LF end of data)
            bareLineEnding = true;
            emit(b);
            state = State.IN_LINE;
        } else {
            emit(b);
            state = State.IN_LINE;
        }
    }

    private void emit(byte b) {
        if (++size > maxSize) {
            tooBig = true;
            return;
        }
        out.write(b);
    }

    private void emit(byte[] bytes, int from, int len) {
        for (int i = from; i < from + len; i++) {
            emit(bytes[i]);
        }
    }

    public boolean done() {
        return state == State.DONE;
    }

    public Outcome outcome() {
        if (bareLineEnding) {
            return Outcome.BARE_LINE_ENDING;
        }
        return tooBig ? Outcome.TOO_BIG : Outcome.OK;
    }

    /** The decoded message; only meaningful when {@link #outcome()} is OK. */
    public byte[] message() {
        return out.toByteArray();
    }

    public long size() {
        return size;
    }
}
