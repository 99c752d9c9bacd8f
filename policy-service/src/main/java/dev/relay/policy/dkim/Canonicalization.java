package dev.relay.policy.dkim;

import java.util.List;

/**
 * The {@code c=} tag of a DKIM signature (RFC 6376 §3.4): how the header fields and the body are canonicalised
 * before hashing. {@code relaxed/relaxed} survives the re-folding and white-space changes that servers on the way
 * make; {@code simple} is byte for byte.
 *
 * @param relaxedHeaders header canonicalisation relaxed (else simple)
 * @param relaxedBody    body canonicalisation relaxed (else simple)
 */
public record Canonicalization(boolean relaxedHeaders, boolean relaxedBody) {

    public static final Canonicalization RELAXED = new Canonicalization(true, true);
    /** The forms a rule may name ({@code header/body}). */
    public static final List<String> NAMES = List.of("relaxed/relaxed", "relaxed/simple", "simple/relaxed",
            "simple/simple");

    /** @throws IllegalArgumentException for anything but one of {@link #NAMES} */
    public static Canonicalization parse(String value) {
        if (value == null) {
            return RELAXED;
        }
        if (!NAMES.contains(value)) {
            throw new IllegalArgumentException("canonicalization must be one of " + NAMES + ": " + value);
        }
        String[] parts = value.split("/");
        return new Canonicalization(parts[0].equals("relaxed"), parts[1].equals("relaxed"));
    }

    /** The value of the {@code c=} tag. */
    public String tag() {
        return (relaxedHeaders ? "relaxed" : "simple") + "/" + (relaxedBody ? "relaxed" : "simple");
    }
}
