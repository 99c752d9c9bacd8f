package dev.relay.ingress.smtp.protocol;

import dev.relay.common.net.StrictUtf8;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Parses one command line (without its CRLF) into a {@link Command}. Separates bad syntax (501) from unknown
 * verbs (500) and known-but-unimplemented verbs (502). Knows nothing about session state.
 */
public final class CommandParser {

    private static final Set<String> SIMPLE = Set.of("DATA", "RSET", "NOOP", "QUIT", "STARTTLS", "HELP");
    private static final Set<String> NOT_IMPLEMENTED = Set.of("EXPN", "TURN", "ETRN", "ATRN", "SEND", "SOML",
            "SAML");

    private CommandParser() {
    }

    public static Command parse(byte[] line) {
        String text = StrictUtf8.decode(line);
        if (text == null) {
            return new Command.Invalid("OTHER", Replies.syntax("invalid UTF-8 in command"));
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r' || c == '\n') {
                return new Command.Invalid("OTHER", Replies.BARE_LINE_ENDING);
            }
            if (c == 0) {
                return new Command.Invalid("OTHER", Replies.syntax("NUL in command"));
            }
        }
        int space = text.indexOf(' ');
        String verb = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
        String arg = space < 0 ? "" : text.substring(space + 1);
        return switch (verb) {
            case "EHLO", "HELO" -> helo(verb, arg.strip());
            case "MAIL" -> path(verb, arg, "FROM:");
            case "RCPT" -> path(verb, arg, "TO:");
            case "AUTH" -> auth(arg.strip());
            case "BDAT" -> bdat(arg.strip());
            case "VRFY" -> arg.isBlank() ? new Command.Invalid(verb, Replies.syntax("VRFY needs an argument"))
                    : new Command.Vrfy(arg.strip());
            default -> {
                if (SIMPLE.contains(verb)) {
                    // RFC 5321 §4.1.1: DATA, RSET, QUIT, STARTTLS take no parameters; HELP and NOOP may.
                    boolean argsAllowed = verb.equals("HELP") || verb.equals("NOOP");
                    yield arg.isBlank() || argsAllowed ? new Command.Simple(verb)
                            : new Command.Invalid(verb, Replies.syntax(verb + " takes no arguments"));
                }
                yield NOT_IMPLEMENTED.contains(verb) ? new Command.NotImplemented(verb) : new Command.Unknown();
            }
        };
    }

    private static Command helo(String verb, String domain) {
        if (domain.isEmpty() || domain.contains(" ")) {
            return new Command.Invalid(verb, Replies.syntax(verb + " needs exactly one domain or address literal"));
        }
        if (!Printable.allVisible(domain)) { // it would reach our logs and the Received: header
            return new Command.Invalid(verb, Replies.HELO_CONTROL_CHARACTERS);
        }
        return new Command.Helo(domain, verb.equals("EHLO"));
    }

    /** BDAT chunk-size [LAST]; an unparsable size leaves the server unable to find the next command. */
    private static Command bdat(String arg) {
        String[] parts = arg.split(" ");
        boolean last = parts.length == 2 && parts[1].equalsIgnoreCase("LAST");
        if (parts.length > 2 || (parts.length == 2 && !last) || !parts[0].matches("[0-9]{1,18}")) {
            return new Command.Invalid("BDAT", Replies.syntax("BDAT chunk-size [LAST]"));
        }
        return new Command.Bdat(Long.parseLong(parts[0]), last);
    }

    private static Command auth(String arg) {
        if (arg.isEmpty()) {
            return new Command.Invalid("AUTH", Replies.syntax("AUTH needs a mechanism"));
        }
        String[] parts = arg.split(" ");
        if (parts.length > 2) {
            return new Command.Invalid("AUTH", Replies.syntax("AUTH mechanism [initial-response]"));
        }
        return new Command.Auth(parts[0].toUpperCase(Locale.ROOT), parts.length == 2 ? parts[1] : null);
    }

    /** MAIL FROM:&lt;path&gt; [params] and RCPT TO:&lt;path&gt; [params]. A space after the colon is tolerated. */
    private static Command path(String verb, String arg, String keyword) {
        if (!arg.regionMatches(true, 0, keyword, 0, keyword.length())) {
            return new Command.Invalid(verb, Replies.syntax("expected " + verb + " " + keyword + "<address>"));
        }
        String rest = arg.substring(keyword.length()).stripLeading();
        if (!rest.startsWith("<")) {
            return new Command.Invalid(verb, Replies.syntax("address must be enclosed in <>"));
        }
        int close = closingBracket(rest);
        if (close < 0) {
            return new Command.Invalid(verb, Replies.syntax("missing >"));
        }
        String path = rest.substring(1, close);
        String tail = rest.substring(close + 1);
        if (!tail.isEmpty() && !tail.startsWith(" ")) {
            return new Command.Invalid(verb, Replies.syntax("garbage after address"));
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String p : tail.strip().split(" +")) {
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            String key = (eq < 0 ? p : p.substring(0, eq)).toUpperCase(Locale.ROOT);
            if (key.isEmpty() || params.containsKey(key)) {
                return new Command.Invalid(verb, Replies.syntax("bad or repeated parameter"));
            }
            params.put(key, eq < 0 ? null : p.substring(eq + 1));
        }
        return verb.equals("MAIL") ? new Command.Mail(path, params) : new Command.Rcpt(path, params);
    }

    private static int closingBracket(String s) {
        boolean quoted = false;
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted && c == '\\') {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == '>' && !quoted) {
                return i;
            }
        }
        return -1;
    }
}
