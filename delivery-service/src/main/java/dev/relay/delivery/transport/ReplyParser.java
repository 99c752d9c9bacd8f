package dev.relay.delivery.transport;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Splits the bytes a server sends into complete replies (RFC 5321 §4.2: {@code 250-first}, {@code 250 last}).
 * No I/O: the connection feeds it bytes and takes replies. A receiving server is a peer we do not control, so
 * everything it can make us keep is bounded (docs/adr/0008-hostile-remote-servers.md), and going beyond a bound
 * is a {@link SmtpProtocolException} (the connection is closed, the attempt is transient):
 * <ul>
 *   <li>a line is at most {@value #MAX_LINE} octets (RFC 5321 §4.5.3.1.5 allows 512; we are lenient, not
 *       unbounded);</li>
 *   <li>a reply is at most {@value #MAX_LINES} lines;</li>
 *   <li>replies are only taken when they were asked for: the connection announces every command it sends
 *       ({@link #expect}), a reply that starts while none is outstanding is unsolicited and a violation, so the
 *       queue never holds more replies than commands were pipelined;</li>
 *   <li>all reply text held at once is at most {@value #MAX_BUFFERED} octets.</li>
 * </ul>
 */
final class ReplyParser {

    /** RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; we accept more, but not without bound. */
    static final int MAX_LINE = 4096;
    /** The longest EHLO reply seen in the wild is a few dozen lines. */
    static final int MAX_LINES = 100;
    /** Text of queued and partly read replies together (a pipelined group of 1,000 RCPT replies fits easily). */
    static final int MAX_BUFFERED = 256 * 1024;

    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final ArrayDeque<SmtpReply> complete = new ArrayDeque<>();
    private List<String> pendingLines = new ArrayList<>();
    private int pendingCode = -1;
    /** Replies announced by {@link #expect} that have not started yet. */
    private int expected;
    /** Octets of reply text held in {@link #complete} and {@link #pendingLines}. */
    private int buffered;
    /** After the reply announced by {@link #expectThenSilence()}: drop everything until {@link #reset()}. */
    private boolean silenceAfterNext;
    private boolean discarding;

    /** The connection sent {@code replies} more commands (or expects the greeting): so many replies may come. */
    void expect(int replies) {
        if (replies < 0) {
            throw new IllegalArgumentException("negative reply count");
        }
        expected += replies;
    }

    /**
     * One reply, after which the server must be silent if it is {@code 220} (the go-ahead to STARTTLS): bytes that
     * follow it are dropped, not parsed, until {@link #reset()} — they must not be taken for replies that came
     * over TLS (RFC 3207 §4.2; CVE-2011-0411 is the server-side twin). Any other reply leaves the parser as it was.
     */
    void expectThenSilence() {
        expect(1);
        silenceAfterNext = true;
    }

    /**
     * @throws SmtpProtocolException when the bytes are not SMTP replies, a bound is exceeded, or a reply comes
     *                               that nobody asked for
     */
    void feed(byte[] bytes) {
        for (byte b : bytes) {
            if (discarding) {
                return;
            }
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
        SmtpReply reply = complete.poll();
        if (reply != null) {
            buffered -= textLength(reply.lines());
        }
        return Optional.ofNullable(reply);
    }

    /** Replies announced and not yet complete (for tests and the fuzz invariants). */
    int outstanding() {
        return expected + (pendingLines.isEmpty() ? 0 : 1);
    }

    /** Complete replies not yet taken. */
    int queued() {
        return complete.size();
    }

    /** Octets of reply text held (for tests and the fuzz invariants). */
    int buffered() {
        return buffered + line.size();
    }

    /**
     * Forgets everything buffered and announced. Used after {@code 220} to STARTTLS: anything the server sent
     * before the handshake must not be read as if it came over TLS.
     */
    void reset() {
        line.reset();
        complete.clear();
        pendingLines = new ArrayList<>();
        pendingCode = -1;
        expected = 0;
        buffered = 0;
        silenceAfterNext = false;
        discarding = false;
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
        if (pendingCode < 0) { // the first line of a reply
            if (expected == 0) {
                throw new SmtpProtocolException("unsolicited reply, no command outstanding: " + abbreviate(text));
            }
            expected--;
        } else if (code != pendingCode) {
            throw new SmtpProtocolException("reply code changed inside a multi-line reply: " + abbreviate(text));
        }
        if (pendingLines.size() >= MAX_LINES) {
            throw new SmtpProtocolException("reply longer than " + MAX_LINES + " lines");
        }
        String lineText = text.length() > 4 ? text.substring(4) : "";
        buffered += lineText.length();
        if (buffered > MAX_BUFFERED) {
            throw new SmtpProtocolException("more than " + MAX_BUFFERED + " octets of replies buffered");
        }
        pendingCode = code;
        pendingLines.add(lineText);
        if (last) {
            complete.add(new SmtpReply(code, pendingLines));
            pendingLines = new ArrayList<>();
            pendingCode = -1;
            if (silenceAfterNext && expected == 0) {
                // only a 220 starts the handshake; after a refusal the dialogue goes on in plain text (RFC 3207 §4)
                discarding = code == 220;
                silenceAfterNext = false;
            }
        }
    }

    private static int textLength(List<String> lines) {
        int n = 0;
        for (String l : lines) {
            n += l.length();
        }
        return n;
    }

    private static boolean isDigits(String s) {
        return s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /** At most 80 characters, control characters replaced: this text reaches logs and events. */
    private static String abbreviate(String text) {
        String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
        return shown.codePoints().map(c -> c < 0x20 || c == 0x7f ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
