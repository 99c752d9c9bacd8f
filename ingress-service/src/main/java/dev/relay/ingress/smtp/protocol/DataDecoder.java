package dev.relay.ingress.smtp.protocol;

/**
 * Decodes the DATA section (RFC 5321 §4.1.1.4, §4.5.2) from raw socket bytes into a {@link MessageBuffer}.
 *
 * <ul>
 *   <li>Only {@code CRLF . CRLF} ends the data. A bare LF or bare CR anywhere is recorded (by the buffer) and the
 *       decoder keeps reading to the real end, so that {@code LF . LF} or {@code LF . CRLF} can never end a
 *       message here while ending it somewhere else (SMTP smuggling, CVE-2023-51764/51765/51766).</li>
 *   <li>Dot-unstuffing: a leading dot on a line is removed.</li>
 * </ul>
 * The decoded message includes the CRLF of its last line and excludes the terminating dot line.
 */
public final class DataDecoder {

    private enum State { LINE_START, IN_LINE, CR, DOT, DOT_CR, DONE }

    private final MessageBuffer buffer;
    private State state = State.LINE_START;

    public DataDecoder(MessageBuffer buffer) {
        this.buffer = buffer;
    }

    /**
     * Feeds bytes. Returns the index just past the terminating {@code CRLF.CRLF} when the data ended inside
     * {@code bytes} (the rest belongs to the next command), or -1 when more bytes are needed.
     */
    public int feed(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (state == State.IN_LINE) { // the bulk of a message: the rest of the line goes to the buffer at once
                int end = i;
                while (end < to && bytes[end] != '\r' && bytes[end] != '\n') {
                    end++;
                }
                if (end > i) {
                    buffer.write(bytes, i, end);
                    i = end - 1;
                    continue;
                }
            }
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
                    buffer.write(b);
                    state = b == '\n' ? State.LINE_START : b == '\r' ? State.CR : State.IN_LINE;
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
                    buffer.write((byte) '\r'); // ".\r" then not LF: a bare CR, refused by the buffer
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
        buffer.write(b);
        // a bare LF is deliberately NOT a line start: no LF.LF end of data
        state = b == '\r' ? State.CR : State.IN_LINE;
    }

    public boolean done() {
        return state == State.DONE;
    }

    public MessageBuffer buffer() {
        return buffer;
    }
}
