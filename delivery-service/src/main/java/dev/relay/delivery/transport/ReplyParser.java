package dev.relay.delivery.transport;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Splits the bytes a server sends into complete replies (RFC 5321 §4.2: {@code 250-first}, {@code 250 last}).
 * No I/O: the connection feeds it bytes and takes replies. Lines and replies are bounded, so a hostile or broken
 * server cannot make us buffer without limit.
 */
final class ReplyParser {

    /** RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; we accept more, but not without bound. */
    static final int MAX_LINE = 4096;
    static final int MAX_LINES = 200;

    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final ArrayDeque<SmtpReply> complete = new ArrayDeque<>();
    private List<String> pendingLines = new ArrayList<>();
    private int pendingCode = -1;

    /**
     * @throws SmtpProtocolException when the bytes are not SMTP replies
     */
    void feed(byte[] bytes) {
        for (byte b : bytes) {
            if (b == '\n') {
                endLine();
            } else if (line.size() >= MAX_LINE) {
                throw new SmtpProtocolException("reply line longer than " + MAX_LINE + " octets");
            } else {
                line.write(b);
            }
        }
    }

    Optional<SmtpReply> next() {
        return Optional.ofNullable(complete.poll());
    }

    /**
     * Forgets everything buffered. Used after {@code 220} to STARTTLS: anything the server sent before the
     * handshake must not be read as if it came over TLS (CVE-2011-0411 is the server-side twin of this).
     */
    void reset() {
        line.reset();
        complete.clear();
        pendingLines = new ArrayList<>();
        pendingCode = -1;
    }

    private void endLine() {
        byte[] raw = line.toByteArray();
        line.reset();
        int length = raw.length > 0 && raw[raw.length - 1] == '\r' ? raw.length - 1 : raw.length;
        String text = new String(raw, 0, length, StandardCharsets.UTF_8);
        if (text.length() < 3 || !isDigits(text.substring(0, 3))) {
            throw new SmtpProtocolException("not an SMTP reply line: " + abbreviate(text));
        }
        int code = Integer.parseInt(text.substring(0, 3));
        boolean last = text.length() == 3 || text.charAt(3) == ' ';
        if (!last && text.charAt(3) != '-') {
            throw new SmtpProtocolException("bad reply separator: " + abbreviate(text));
        }
        if (pendingCode >= 0 && code != pendingCode) {
            throw new SmtpProtocolException("reply code changed inside a multi-line reply: " + abbreviate(text));
        }
        if (pendingLines.size() >= MAX_LINES) {
            throw new SmtpProtocolException("reply longer than " + MAX_LINES + " lines");
        }
        pendingCode = code;
        pendingLines.add(text.length() > 4 ? text.substring(4) : "");
        if (last) {
            complete.add(new SmtpReply(code, pendingLines));
            pendingLines = new ArrayList<>();
            pendingCode = -1;
        }
    }

    private static boolean isDigits(String s) {
        return s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static String abbreviate(String text) {
        return text.length() > 80 ? text.substring(0, 80) + "..." : text;
    }
}
