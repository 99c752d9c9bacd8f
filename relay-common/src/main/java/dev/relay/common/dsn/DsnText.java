package dev.relay.common.dsn;

import dev.relay.common.envelope.Envelope;

import java.util.List;

/**
 * The text of a DSN: the human-readable explanation (part one of the report) and the cleaning of every value
 * that goes into a header field or line (no CR, LF or other control characters, bounded diagnostics). Pure.
 */
final class DsnText {

    private static final int MAX_DIAGNOSTIC = 900;

    private DsnText() {
    }

    static String humanText(String reportingMta, Envelope original, List<RecipientStatus> reported,
                            boolean anyFailed) {
        StringBuilder t = new StringBuilder();
        t.append("This is the mail system at host ").append(reportingMta).append(".\n\n");
        boolean onlySuccess = reported.stream().allMatch(s -> s.action().success());
        if (anyFailed) {
            t.append("Your message could not be delivered to one or more recipients. It is attached below.\n\n");
        } else if (onlySuccess) {
            t.append("Your message was successfully delivered to the destination(s) listed below, as you asked.\n")
                    .append("\"relayed\" means it was handed to a system that does not send delivery notices:\n")
                    .append("you will hear nothing more about it from there.\n\n");
        } else {
            t.append("Your message has not been delivered yet to one or more recipients. The mail system will\n")
                    .append("keep trying; you do not need to send it again.\n\n");
        }
        for (RecipientStatus s : reported) {
            t.append("<").append(clean(s.recipient())).append(">: ")
                    .append(s.action().field());
            if (s.remoteMta() != null) {
                t.append(", host ").append(clean(s.remoteMta())).append(" said");
            }
            t.append(": ").append(s.diagnostic() == null ? "status " + s.status() : diagnostic(s.diagnostic()))
                    .append("\n");
        }
        t.append("\nMessage id: ").append(clean(original.messageId())).append("\n");
        return t.toString();
    }

    static String diagnostic(String text) {
        String d = clean(text).strip();
        return d.length() > MAX_DIAGNOSTIC ? d.substring(0, MAX_DIAGNOSTIC) + "..." : d;
    }

    /** No CR, LF or other control characters inside a field or line (tabs become spaces). */
    static String clean(String value) {
        if (value == null) {
            return "";
        }
        StringBuilder s = new StringBuilder(value.length());
        value.codePoints().forEach(c -> s.appendCodePoint(c < 0x20 || c == 0x7F ? ' ' : c));
        return s.toString();
    }
}
