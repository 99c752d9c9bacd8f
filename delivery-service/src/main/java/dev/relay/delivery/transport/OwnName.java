package dev.relay.delivery.transport;

import java.util.Locale;

/**
 * This delivery's own name ({@code relay.delivery.helo-name}), for loop detection as Postfix does it: an MX host
 * with our name, or a server that greets us with our name, is ourselves, and mail sent there would come straight
 * back (issue 13: a local domain's MX is Relay itself). Names compare case-insensitively, a trailing dot ignored.
 */
public final class OwnName {

    private final String name;

    public OwnName(String name) {
        this.name = normalize(name);
    }

    /** {@code candidate} is our own name; false for null or empty. */
    public boolean is(String candidate) {
        return candidate != null && !name.isEmpty() && name.equals(normalize(candidate));
    }

    /** The first word of a reply's first line: the domain a {@code 220} greeting or an EHLO reply names. */
    public boolean greets(SmtpReply reply) {
        if (reply.lines().isEmpty()) {
            return false;
        }
        String first = reply.lines().get(0).strip();
        int space = first.indexOf(' ');
        return is(space < 0 ? first : first.substring(0, space));
    }

    @Override
    public String toString() {
        return name;
    }

    private static String normalize(String name) {
        if (name == null) {
            return "";
        }
        String n = name.strip().toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
