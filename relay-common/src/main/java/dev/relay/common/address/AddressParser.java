package dev.relay.common.address;

import java.nio.charset.StandardCharsets;

/**
 * The one parser of SMTP mailbox paths (RFC 5321 §4.1.2), used by every service.
 *
 * <p>Treatment of the constructs that have historically been used to route around relay control
 * (documented in the README, "Address handling"):
 * <ul>
 *   <li>source routes {@code @a,@b:user@c} — refused (RFC 5321 §4.1.2 lets servers ignore them; refusing is
 *       safer because older relays honoured them);</li>
 *   <li>{@code %}-hack and bang paths ({@code user%other@local}, {@code host!user@local}) — refused;</li>
 *   <li>quoted local parts containing {@code @}, {@code %} or {@code !} ({@code "user%other@local"},
 *       {@code "other!user"@local}, {@code "a@b"@local}) — refused: a mailbox store or gateway behind Relay
 *       may unquote them and relay onwards, so they are the same routing tricks in quotes;</li>
 *   <li>address literals {@code user@[192.0.2.1]} — refused;</li>
 *   <li>CR, LF, NUL or any other control character — refused.</li>
 * </ul>
 * Limits: local part 64 octets, domain 255 octets, path 256 octets (RFC 5321 §4.5.3.1).
 */
public final class AddressParser {

    public static final int MAX_LOCAL_PART = 64;
    public static final int MAX_DOMAIN = 255;
    public static final int MAX_PATH = 256;

    private static final String ATEXT_SPECIALS = "!#$%&'*+-/=?^_`{|}~";

    private AddressParser() {
    }

    /**
     * @param path        the text between the angle brackets of a MAIL FROM / RCPT TO path
     * @param utf8Allowed whether SMTPUTF8 was requested (allows non-ASCII in local part and domain)
     */
    public static ParsedAddress parse(String path, boolean utf8Allowed) {
        if (path == null || path.isEmpty()) {
            return invalid("empty address");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return invalid("control character in address");
            }
            if (c >= 0x80 && !utf8Allowed) {
                return invalid("non-ASCII address without SMTPUTF8");
            }
        }
        if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH) {
            return invalid("path too long");
        }
        if (path.charAt(0) == '@') {
            return policy("source routes are not accepted");
        }
        int at;
        String local;
        if (path.charAt(0) == '"') {
            int end = closingQuote(path);
            if (end < 0) {
                return invalid("unterminated quoted local part");
            }
            local = path.substring(0, end + 1);
            ParsedAddress routing = checkQuotedString(local);
            if (routing != null) {
                return routing;
            }
            at = end + 1;
            if (at >= path.length() || path.charAt(at) != '@') {
                return invalid("missing @domain");
            }
        } else {
            at = path.lastIndexOf('@');
            if (at <= 0) {
                return invalid("missing @domain");
            }
            local = path.substring(0, at);
            ParsedAddress bad = checkDotString(local);
            if (bad != null) {
                return bad;
            }
        }
        if (local.getBytes(StandardCharsets.UTF_8).length > MAX_LOCAL_PART) {
            return invalid("local part too long");
        }
        String domain = path.substring(at + 1);
        ParsedAddress bad = checkDomain(domain);
        if (bad != null) {
            return bad;
        }
        return new ParsedAddress.Valid(new MailAddress(local, domain));
    }

    /** Validates a domain name as used in EHLO, routes and addresses (no literals). Null when fine. */
    public static ParsedAddress checkDomain(String domain) {
        if (domain.isEmpty()) {
            return invalid("empty domain");
        }
        if (domain.charAt(0) == '[') {
            return policy("address literals are not accepted");
        }
        if (domain.getBytes(StandardCharsets.UTF_8).length > MAX_DOMAIN) {
            return invalid("domain too long");
        }
        String[] labels = domain.split("\\.", -1);
        for (String label : labels) {
            if (label.isEmpty() || label.length() > 63) {
                return invalid("bad domain label");
            }
            if (label.charAt(0) == '-' || label.charAt(label.length() - 1) == '-') {
                return invalid("bad domain label");
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c >= 0x80;
                if (!ok) {
                    return c == '%' || c == '!' || c == '@' || c == ':' || c == ','
                            ? policy("routing characters are not accepted in a domain")
                            : invalid("bad character in domain");
                }
            }
        }
        return null;
    }

    private static ParsedAddress checkDotString(String local) {
        if (local.startsWith(".") || local.endsWith(".") || local.contains("..")) {
            return invalid("bad dots in local part");
        }
        for (int i = 0; i < local.length(); i++) {
            char c = local.charAt(i);
            if (c == '%' || c == '!') {
                return policy("'%' and '!' routing is not accepted");
            }
            if (c == '@' || c == ':' || c == ',') {
                return policy("routing characters in local part are not accepted");
            }
            boolean atext = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c >= 0x80 || ATEXT_SPECIALS.indexOf(c) >= 0;
            if (!atext) {
                return invalid("bad character in local part");
            }
        }
        return null;
    }

    /**
     * A quoted local part may hold any printable character, but {@code @}, {@code %} and {@code !} in it are
     * routing syntax for whatever unquotes it next (escaped or not): refused like their unquoted forms.
     */
    private static ParsedAddress checkQuotedString(String quoted) {
        for (int i = 1; i < quoted.length() - 1; i++) {
            char c = quoted.charAt(i);
            if (c == '@') {
                return policy("quoted local part containing @ is not accepted");
            }
            if (c == '%' || c == '!') {
                return policy("'%' and '!' routing is not accepted, quoted or not");
            }
        }
        return null;
    }

    private static int closingQuote(String path) {
        for (int i = 1; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        return -1;
    }

    private static ParsedAddress invalid(String reason) {
        return new ParsedAddress.Invalid(reason, false);
    }

    private static ParsedAddress policy(String reason) {
        return new ParsedAddress.Invalid(reason, true);
    }
}
