package dev.relay.delivery.auth;

import java.util.Locale;

/** The SASL mechanisms Relay can use towards an upstream server, as named in the EHLO {@code AUTH} line. */
public enum Mechanism {
    /** RFC 4616: {@code \0user\0password} as initial response. */
    PLAIN,
    /** The widespread non-standard LOGIN: user name and password each answering a 334 challenge. */
    LOGIN,
    /** OAuth 2.0 bearer token in Google's and Microsoft's XOAUTH2 format. */
    XOAUTH2;

    /** The value of a {@code mechanism} file: {@code plain}, {@code login} or {@code xoauth2}, any case. */
    public static Mechanism parse(String text) {
        String t = text == null ? "" : text.strip().toUpperCase(Locale.ROOT);
        for (Mechanism m : values()) {
            if (m.name().equals(t)) {
                return m;
            }
        }
        throw new IllegalArgumentException("mechanism must be plain, login or xoauth2");
    }

    /** The metric tag value: lower case, one of three. */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** XOAUTH2 authenticates with a token file, the others with a password file. */
    public String secretFile() {
        return this == XOAUTH2 ? "token" : "password";
    }
}
