package dev.relay.ingress.smtp.protocol;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An SMTP reply: a three-digit code, an RFC 3463 enhanced status code (null for 220/221/334/354 greetings and
 * prompts where none applies) and one or more text lines.
 */
public record Reply(int code, String status, List<String> lines) {

    public Reply {
        lines = List.copyOf(lines);
    }

    public static Reply of(int code, String status, String text) {
        return new Reply(code, status, List.of(text));
    }

    public boolean positive() {
        return code < 400;
    }

    public boolean transientFailure() {
        return code >= 400 && code < 500;
    }

    public boolean permanentFailure() {
        return code >= 500;
    }

    /** "2xx", "4xx" or "5xx": the bounded tag used in metrics. */
    public String replyClass() {
        return (code / 100) + "xx";
    }

    public Reply withText(String text) {
        return new Reply(code, status, List.of(text));
    }

    /** The reply as sent on the wire: every line but the last uses the {@code code-} continuation form. */
    public byte[] toBytes() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            sb.append(code).append(i == lines.size() - 1 ? ' ' : '-');
            if (status != null) {
                sb.append(status).append(' ');
            }
            sb.append(lines.get(i)).append("\r\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return new String(toBytes(), StandardCharsets.UTF_8).trim();
    }
}
