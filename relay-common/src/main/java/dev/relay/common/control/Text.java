package dev.relay.common.control;

/** Operator text as it is stored: one line, no control characters, bounded. */
final class Text {

    private Text() {
    }

    static String line(String text, int max) {
        if (text == null) {
            return "";
        }
        StringBuilder s = new StringBuilder(Math.min(text.length(), max));
        for (int i = 0; i < text.length() && s.length() < max; ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (Character.isISOControl(c)) {
                c = ' ';
            }
            if (s.length() + Character.charCount(c) <= max) {
                s.appendCodePoint(c);
            } else {
                break;
            }
        }
        return s.toString().strip();
    }
}
