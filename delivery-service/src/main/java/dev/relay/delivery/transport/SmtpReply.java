package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One complete (possibly multi-line) SMTP reply, RFC 5321 §4.2. Replies are values: a transient or permanent
 * reply is an ordinary result, never an exception.
 *
 * @param code  the three-digit reply code
 * @param lines the text of every line without code, separator and CRLF
 */
public record SmtpReply(int code, List<String> lines) {

    /** An RFC 3463 code right after the reply code (RFC 2034 §4), of any class. */
    private static final Pattern ENHANCED =
            Pattern.compile("^\\s*\\d{3}[ -]+([245]\\.\\d{1,3}\\.\\d{1,3})(?:\\s|$)");

    public SmtpReply {
        lines = List.copyOf(lines);
    }

    /** A reply we make up ourselves, for outcomes decided without the remote server. */
    public static SmtpReply local(int code, String text) {
        return new SmtpReply(code, List.of(text));
    }

    /** 2yz, or 3yz (intermediate: 354 after DATA). */
    public boolean isPositive() {
        return code >= 200 && code < 400;
    }

    /** 4yz: the same command may succeed later. Codes outside 2yz–5yz are treated as transient too. */
    public boolean isTransient() {
        return !isPositive() && !isPermanent();
    }

    /** 5yz: the command will not succeed as it is. */
    public boolean isPermanent() {
        return code >= 500 && code < 600;
    }

    /** Code and text on one line, for events, logs and DSNs: {@code 550 5.1.1 user unknown}. */
    public String text() {
        return code + " " + String.join(" ", lines).strip();
    }

    /** The enhanced status code the reply starts with ({@code 5.1.1}), null when it has none. */
    public String enhancedStatus() {
        Matcher m = ENHANCED.matcher(text());
        return m.find() ? m.group(1) : null;
    }

    /** This reply as the result of a recipient, taken apart once here so that nobody parses it again. */
    public Diagnostic diagnostic(Phase phase) {
        return new Diagnostic(phase, code, enhancedStatus(), text());
    }

    @Override
    public String toString() {
        return text();
    }
}
