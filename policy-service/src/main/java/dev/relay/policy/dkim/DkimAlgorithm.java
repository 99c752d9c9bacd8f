package dev.relay.policy.dkim;

/**
 * The signing algorithms Relay offers (the {@code a=} tag): RSA with SHA-256 (RFC 6376; keys of at least
 * {@value #MIN_RSA_BITS} bits, RFC 8301 forbids fewer than 1024 and the large mailbox providers want 2048) and
 * Ed25519 with SHA-256 (RFC 8463: PureEdDSA over the SHA-256 hash of the canonicalised header data).
 */
public enum DkimAlgorithm {
    RSA_SHA256("rsa-sha256", "rsa"),
    ED25519_SHA256("ed25519-sha256", "ed25519");

    /** RSA keys below this size are refused when loaded. */
    public static final int MIN_RSA_BITS = 2048;

    private final String tag;
    private final String keyType;

    DkimAlgorithm(String tag, String keyType) {
        this.tag = tag;
        this.keyType = keyType;
    }

    /** The value of the {@code a=} tag, also the {@code algorithm} tag of the signature metric. */
    public String tag() {
        return tag;
    }

    /** The {@code k=} tag of the DNS key record. */
    public String keyType() {
        return keyType;
    }
}
