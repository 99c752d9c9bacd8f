package dev.relay.delivery.auth;

import java.util.regex.Pattern;

/**
 * One upstream login: what a mounted Secret gives in {@code <credentials-dir>/<name>/}.
 *
 * @param name      the credential's name as routes refer to it ({@code [a-z0-9-]{1,63}}); not secret
 * @param mechanism how to authenticate
 * @param username  the login (for XOAUTH2 the mailbox the token belongs to)
 * @param secret    the password (PLAIN, LOGIN) or the bearer token (XOAUTH2); never logged: {@link #toString()}
 *                  leaves it (and the user name) out
 */
public record Credential(String name, Mechanism mechanism, String username, String secret) {

    /** The names routes may use: a Kubernetes Secret volume's directory, and nothing a path could escape with. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,63}");

    public static boolean validName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    @Override
    public String toString() {
        return "Credential[name=" + name + ", mechanism=" + mechanism + ", username=<redacted>, secret=<redacted>]";
    }
}
