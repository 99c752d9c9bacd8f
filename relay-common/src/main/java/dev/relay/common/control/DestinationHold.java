package dev.relay.common.control;

import java.net.IDN;
import java.util.Locale;
import java.util.Objects;

/**
 * Whether a destination is held, on {@code relay.holds.v1} (compacted, key = {@link #domain}): while held, no
 * delivery worker attempts mail to the domain; its messages wait on the held tier and keep their attempts and
 * their age. A record with {@code held = false} releases it (kept, unlike a tombstone, to say who released it).
 *
 * @param domain the recipient domain, lower case ASCII (A-label), the record key
 * @param held   true: hold; false: released
 * @param actor  who held or released it (Keycloak username or client id)
 * @param at     epoch milliseconds
 * @param reason the operator's note, may be empty
 */
public record DestinationHold(String domain, boolean held, String actor, long at, String reason) {

    public static final int MAX_DOMAIN = 253;

    public DestinationHold {
        domain = domain(domain);
        actor = Text.line(actor, QueueCommand.MAX_ACTOR);
        reason = Text.line(reason, QueueCommand.MAX_REASON);
    }

    /** A domain as the key and the match use it: trimmed, without a trailing dot, A-label, lower case. */
    public static String domain(String value) {
        Objects.requireNonNull(value, "domain");
        String v = value.strip();
        if (v.endsWith(".")) {
            v = v.substring(0, v.length() - 1);
        }
        if (v.isEmpty() || v.length() > MAX_DOMAIN) {
            throw new IllegalArgumentException("a domain has 1 to " + MAX_DOMAIN + " characters");
        }
        try {
            v = IDN.toASCII(v, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a domain name: " + e.getMessage());
        }
        if (v.isEmpty() || v.length() > MAX_DOMAIN || !v.contains(".") && !v.equals("localhost")) {
            throw new IllegalArgumentException("not a domain name");
        }
        return v;
    }
}
