package dev.relay.ingress.smtp.protocol;

/**
 * What client-supplied text may reach a log line or a header: printable characters only. Control characters
 * (C0, DEL, C1), format and separator characters (bidi overrides, U+2028) and unassigned or private code points
 * can forge log lines or hide text from whoever reads them.
 */
public final class Printable {

    /** Longest piece of client text written to a log line. */
    public static final int LOG_LIMIT = 255;

    private Printable() {
    }

    /** Whether {@code codePoint} may appear in client text we log or write into a header (space excluded). */
    public static boolean visible(int codePoint) {
        if (codePoint <= 0x20 || codePoint == 0x7f) {
            return false;
        }
        return switch (Character.getType(codePoint)) {
            case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR, Character.UNASSIGNED, Character.PRIVATE_USE, Character.SURROGATE ->
                    false;
            default -> true;
        };
    }

    /** Whether every character of {@code text} is {@link #visible}. */
    public static boolean allVisible(String text) {
        return text.codePoints().allMatch(Printable::visible);
    }

    /**
     * {@code text} for a log line: every character that is not {@link #visible} becomes {@code ?}, and it is cut at
     * {@link #LOG_LIMIT} characters; null stays null.
     */
    public static String forLog(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder(Math.min(text.length(), LOG_LIMIT + 3));
        text.codePoints().limit(LOG_LIMIT).forEach(c -> sb.appendCodePoint(visible(c) ? c : '?'));
        if (text.codePointCount(0, text.length()) > LOG_LIMIT) {
            sb.append("...");
        }
        return sb.toString();
    }
}
