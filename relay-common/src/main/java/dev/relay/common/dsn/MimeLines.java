package dev.relay.common.dsn;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * MIME assembly of a DSN: the message under construction, with CRLF line endings, UTF-8 text and header fields
 * folded at white space; plus the byte-level checks the composer needs (8-bit content, a boundary that does not
 * occur in the original). Pure.
 */
final class MimeLines {

    private static final byte[] CRLF = {'\r', '\n'};
    private static final int FOLD_AT = 78;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    void line(String line) {
        bytes.writeBytes(line.getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(CRLF);
    }

    void header(String name, String value) {
        field(name, value);
    }

    /** {@code Name: value}, folded at white space so that lines stay short (RFC 5322 §2.2.3). */
    void field(String name, String value) {
        for (String l : fold(name + ": " + value, " ")) {
            line(l);
        }
    }

    /** Text with LF line ends, long lines wrapped. */
    void text(String text) {
        for (String paragraph : text.split("\n", -1)) {
            if (paragraph.isEmpty()) {
                line("");
                continue;
            }
            for (String l : fold(paragraph, "    ")) {
                line(l);
            }
        }
    }

    /** Unchanged: the CRLF written after it belongs to the next boundary delimiter (RFC 2046 §5.1.1). */
    void raw(byte[] data) {
        bytes.writeBytes(data);
    }

    byte[] bytes() {
        return bytes.toByteArray();
    }

    private static List<String> fold(String line, String indent) {
        List<String> lines = new ArrayList<>();
        String rest = line;
        boolean first = true;
        while (rest.length() > FOLD_AT) {
            int cut = rest.lastIndexOf(' ', FOLD_AT);
            if (cut <= indent.length()) {
                cut = rest.indexOf(' ', FOLD_AT);
            }
            if (cut <= 0) {
                break;
            }
            lines.add(rest.substring(0, cut));
            rest = indent + rest.substring(cut + 1);
            first = false;
        }
        lines.add(rest);
        return first ? List.of(line) : lines;
    }

    static boolean isAscii(String s) {
        return s == null || s.chars().allMatch(c -> c < 0x80);
    }

    static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
