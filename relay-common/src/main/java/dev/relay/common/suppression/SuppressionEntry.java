package dev.relay.common.suppression;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/**
 * One address on the suppression list ({@code relay.suppression.v1}, compacted, key = {@link #key}): mail to it is
 * not attempted until {@code until}. Written by the delivery service after a hard bounce from a remote server
 * ({@code source = bounce}) or by an administrator through the policy's admin API ({@code source = admin}); a
 * tombstone (null value) under the key removes it.
 *
 * @param address the recipient address, lower-cased (the record key)
 * @param reason  why: the remote's reply (code, enhanced status and text) or the administrator's note, on one
 *                line, at most {@link #MAX_REASON} characters
 * @param since   when it was added
 * @param until   when it stops applying (after {@code since})
 * @param source  {@link Source#BOUNCE} or {@link Source#ADMIN}
 */
public record SuppressionEntry(String address, String reason, Instant since, Instant until, Source source) {

    /** The longest reason kept (a remote reply may be long; the DSN and the API show this much). */
    public static final int MAX_REASON = 512;
    /** The longest address accepted (RFC 5321 §4.5.3.1.3: a path is at most 256 octets). */
    public static final int MAX_ADDRESS = 254;

    public enum Source {
        BOUNCE, ADMIN;

        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Source of(String value) {
            for (Source s : values()) {
                if (s.value().equals(value)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("source must be bounce or admin, was " + value);
        }
    }

    public SuppressionEntry {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(until, "until");
        Objects.requireNonNull(source, "source");
        address = key(address);
        reason = reason(reason);
        if (!until.isAfter(since)) {
            throw new IllegalArgumentException("until must be after since");
        }
    }

    /** The record key of an address: lower-cased (as receivers treat local parts in practice), trimmed. */
    public static String key(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("address is empty");
        }
        String key = address.strip().toLowerCase(Locale.ROOT);
        if (key.length() > MAX_ADDRESS) {
            throw new IllegalArgumentException("address longer than " + MAX_ADDRESS + " characters");
        }
        return key;
    }

    /** Whether the entry applies at {@code now}: expired entries are ignored wherever they are read. */
    public boolean activeAt(Instant now) {
        return now.isBefore(until);
    }

    /** One line, no control characters, at most {@link #MAX_REASON} characters. */
    static String reason(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder s = new StringBuilder(Math.min(text.length(), MAX_REASON));
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (s.length() + Character.charCount(c) > MAX_REASON) {
                break;
            }
            s.appendCodePoint(c < 0x20 || c == 0x7F ? ' ' : c);
        }
        return s.toString().strip();
    }
}
