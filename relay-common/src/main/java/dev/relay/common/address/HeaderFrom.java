package dev.relay.common.address;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The addresses of a message's header {@code From:} (RFC 5322 §3.6.2, mailbox-list with display names, comments,
 * quoted strings, groups and folding), for sender binding: the ingress (in the session, at end of DATA) and the
 * policy service (authoritatively) both read the From with this one parser, so they cannot disagree about it.
 *
 * <p>Strict where leniency could hide an address: more than one {@code From:} field, an unbalanced quote, comment
 * or angle bracket, or an address the {@link AddressParser} refuses makes the whole header {@link Result#invalid}.
 * Display names are not judged (only addresses are bound). A message without a {@code From:} field has no
 * addresses (nothing to impersonate; {@link Result#absent}). Only the header section is read, at most
 * {@link #MAX_HEADER_BYTES} octets of it.
 */
public final class HeaderFrom {

    /** The most of the header section read; the ingress refuses larger header sections anyway. */
    public static final int MAX_HEADER_BYTES = 1024 * 1024;
    /** More addresses than this in one From: is not a real message. */
    public static final int MAX_ADDRESSES = 100;

    private HeaderFrom() {
    }

    /**
     * @param addresses the addresses, when {@code valid}
     * @param valid     whether the From: could be read unambiguously
     * @param present   whether the header section had a From: field
     */
    public record Result(List<MailAddress> addresses, boolean valid, boolean present) {
        static Result absent() {
            return new Result(List.of(), true, false);
        }

        static Result invalid() {
            return new Result(List.of(), false, true);
        }
    }

    /** Reads the From: of a whole message (header section, empty line, body) in wire form (CRLF). */
    public static Result of(byte[] message) {
        int end = Math.min(message.length, MAX_HEADER_BYTES);
        String from = null;
        int fields = 0;
        int lineStart = 0;
        StringBuilder current = null;
        for (int i = 0; i <= end; i++) {
            boolean lineEnd = i == end || (message[i] == '\n');
            if (!lineEnd) {
                continue;
            }
            int stop = i > lineStart && message[i - 1] == '\r' ? i - 1 : i;
            if (stop == lineStart) { // the empty line ends the header section
                break;
            }
            String line = new String(message, lineStart, stop - lineStart, StandardCharsets.UTF_8);
            lineStart = i + 1;
            boolean continuation = line.charAt(0) == ' ' || line.charAt(0) == '\t';
            if (continuation) {
                if (current != null) {
                    current.append(line);
                }
                continue;
            }
            if (current != null) {
                from = current.toString();
                current = null;
            }
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("From")) {
                fields++;
                current = new StringBuilder(line.substring(colon + 1));
            }
        }
        if (current != null) {
            from = current.toString();
        }
        if (fields == 0) {
            return Result.absent();
        }
        if (fields > 1) {
            return Result.invalid();
        }
        return parseValue(from);
    }

    /** Parses the value of one From: field (unfolded). */
    public static Result parseValue(String value) {
        List<String> specs = addrSpecs(value);
        if (specs == null || specs.isEmpty() || specs.size() > MAX_ADDRESSES) {
            return Result.invalid();
        }
        List<MailAddress> out = new ArrayList<>();
        for (String spec : specs) {
            ParsedAddress parsed = AddressParser.parse(spec, true);
            if (!(parsed instanceof ParsedAddress.Valid valid)) {
                return Result.invalid();
            }
            out.add(valid.address());
        }
        return new Result(List.copyOf(out), true, true);
    }

    /**
     * Splits a mailbox-list / address-list into addr-specs: comments removed, display names and group names
     * dropped, the content of angle brackets taken when there is one. Null when unbalanced.
     */
    static List<String> addrSpecs(String value) {
        List<String> specs = new ArrayList<>();
        StringBuilder outside = new StringBuilder(); // the mailbox text outside quotes and comments
        StringBuilder angle = null;
        String angled = null;
        int depth = 0;
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                return null;
            }
            if (depth > 0) { // in a comment, possibly nested
                if (c == '\\') {
                    i++;
                } else if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                }
                continue;
            }
            if (quoted) {
                StringBuilder target = angle != null ? angle : outside;
                target.append(c);
                if (c == '\\' && i + 1 < value.length()) {
                    target.append(value.charAt(++i));
                } else if (c == '"') {
                    quoted = false;
                }
                continue;
            }
            switch (c) {
                case '(' -> depth++;
                case ')' -> {
                    return null;
                }
                case '"' -> {
                    quoted = true;
                    (angle != null ? angle : outside).append(c);
                }
                case '<' -> {
                    if (angle != null || angled != null) {
                        return null;
                    }
                    angle = new StringBuilder();
                }
                case '>' -> {
                    if (angle == null) {
                        return null;
                    }
                    angled = angle.toString().trim();
                    angle = null;
                }
                case ':' -> {
                    if (angle != null) {
                        angle.append(c); // a source route; the address parser refuses it
                    } else {
                        outside.setLength(0); // a group name ends: its members follow
                    }
                }
                case ',', ';' -> {
                    if (angle != null) {
                        angle.append(c);
                    } else {
                        String spec = angled != null ? angled : outside.toString().trim();
                        if (!spec.isEmpty()) {
                            specs.add(spec);
                        }
                        outside.setLength(0);
                        angled = null;
                    }
                }
                default -> (angle != null ? angle : outside).append(c);
            }
            if (specs.size() > MAX_ADDRESSES) {
                return specs;
            }
        }
        if (depth > 0 || quoted || angle != null) {
            return null;
        }
        String spec = angled != null ? angled : outside.toString().trim();
        if (!spec.isEmpty()) {
            specs.add(spec);
        }
        return specs;
    }
}
