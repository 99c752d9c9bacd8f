package dev.relay.delivery.transport;

import java.util.Locale;

/**
 * How much TLS a hop demands (the {@code tlsPolicy} of a route).
 * <ul>
 *   <li>{@code NONE}: never STARTTLS, even if offered.</li>
 *   <li>{@code OPPORTUNISTIC}: STARTTLS when offered, any certificate (RFC 7435); plain text only when the
 *       server does not offer STARTTLS. A STARTTLS that is offered but fails is a transient failure.</li>
 *   <li>{@code REQUIRED}: STARTTLS must be offered and succeed, any certificate; otherwise transient.</li>
 *   <li>{@code VERIFY}: like REQUIRED, and the certificate must chain to a trusted root and match the host
 *       name we looked up (the MX host, not the IP).</li>
 * </ul>
 */
public enum TlsPolicy {
    NONE,
    OPPORTUNISTIC,
    REQUIRED,
    VERIFY;

    /** Lenient parse of a route's policy; unknown or missing means opportunistic. */
    public static TlsPolicy parse(String text) {
        if (text == null || text.isBlank()) {
            return OPPORTUNISTIC;
        }
        String t = text.strip().toUpperCase(Locale.ROOT);
        if (t.equals("MAY")) {
            return OPPORTUNISTIC;
        }
        if (t.equals("ENCRYPT")) {
            return REQUIRED;
        }
        for (TlsPolicy p : values()) {
            if (p.name().equals(t)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown TLS policy: " + text);
    }

    public boolean mandatory() {
        return this == REQUIRED || this == VERIFY;
    }
}
