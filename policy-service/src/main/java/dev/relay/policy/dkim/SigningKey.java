package dev.relay.policy.dkim;

import java.security.PrivateKey;

/**
 * One private signing key, loaded from {@code <keys-dir>/<domain>/<selector>.pem}. Its {@link #toString()} names
 * the key but never shows it, so that a log line or an exception message cannot carry key material.
 *
 * @param domain    the signing domain ({@code d=}), lower case: the directory name
 * @param selector  the selector ({@code s=}): the file name without {@code .pem}
 * @param algorithm what the key signs with
 * @param key       the private key (never logged)
 * @param bits      the RSA modulus length; 256 for Ed25519
 */
public record SigningKey(String domain, String selector, DkimAlgorithm algorithm, PrivateKey key, int bits) {

    /** {@code domain/selector}: how events, logs and the rules name a key. */
    public String name() {
        return domain + "/" + selector;
    }

    @Override
    public String toString() {
        return "SigningKey[" + name() + ", " + algorithm.tag() + ", " + bits + " bits, key redacted]";
    }
}
