package dev.relay.policy.dkim;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Locale;

/**
 * Reads one signing key file: PEM, unencrypted PKCS#8 (PEM type {@code PRIVATE KEY}), RSA of at least
 * {@value DkimAlgorithm#MIN_RSA_BITS} bits or Ed25519, with the JDK's own key factories (no dependency). What is
 * wrong is said in words that never contain the key's bytes.
 */
public final class KeyFiles {

    /** A key file larger than this is no key (an RSA-8192 PKCS#8 PEM is about 6.5 KiB). */
    public static final int MAX_BYTES = 64 * 1024;
    /** The PEM type of an unencrypted PKCS#8 key. */
    public static final String PEM_TYPE = "PRIVATE" + " KEY";
    private static final String BEGIN = armor("BEGIN", PEM_TYPE);
    private static final String END = armor("END", PEM_TYPE);

    private KeyFiles() {
    }

    /** Why a file is not a usable key; the message names no key material. */
    public static final class BadKey extends Exception {
        public BadKey(String message) {
            super(message);
        }
    }

    /** A PEM armor line, e.g. {@code armor("BEGIN", PEM_TYPE)}. */
    public static String armor(String which, String type) {
        return "-----" + which + " " + type + "-----";
    }

    /** PEM text of a PKCS#8 key encoding (the dev keys of the local stack, tests). */
    public static String pem(byte[] pkcs8) {
        return armor("BEGIN", PEM_TYPE) + "\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(pkcs8)
                + "\n" + armor("END", PEM_TYPE) + "\n";
    }

    /** @throws BadKey naming what is wrong with the file */
    public static SigningKey parse(String domain, String selector, byte[] pem) throws BadKey {
        if (pem.length > MAX_BYTES) {
            throw new BadKey("larger than " + MAX_BYTES + " bytes: not a key file");
        }
        String text = new String(pem, StandardCharsets.US_ASCII);
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        if (begin < 0 || end < begin) {
            if (text.contains(armor("BEGIN", "RSA " + PEM_TYPE)) || text.contains(armor("BEGIN", "EC " + PEM_TYPE))) {
                throw new BadKey("a PKCS#1/SEC 1 key: convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)");
            }
            if (text.contains("ENCRYPTED " + PEM_TYPE)) {
                throw new BadKey("an encrypted key: signing keys must be unencrypted PKCS#8");
            }
            throw new BadKey("no PEM block of type " + PEM_TYPE + " (unencrypted PKCS#8 expected)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(text.substring(begin + BEGIN.length(), end).trim());
        } catch (IllegalArgumentException e) {
            throw new BadKey("the PEM block is not base64");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        try {
            PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(spec);
            int bits = ((RSAPrivateKey) key).getModulus().bitLength();
            if (bits < DkimAlgorithm.MIN_RSA_BITS) {
                throw new BadKey("an RSA key of " + bits + " bits: at least " + DkimAlgorithm.MIN_RSA_BITS
                        + " are required");
            }
            return new SigningKey(domain.toLowerCase(Locale.ROOT), selector, DkimAlgorithm.RSA_SHA256, key, bits);
        } catch (InvalidKeySpecException notRsa) {
            // try Ed25519 next
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has RSA", e);
        }
        try {
            PrivateKey key = KeyFactory.getInstance("Ed25519").generatePrivate(spec);
            return new SigningKey(domain.toLowerCase(Locale.ROOT), selector, DkimAlgorithm.ED25519_SHA256, key, 256);
        } catch (InvalidKeySpecException e) {
            throw new BadKey("neither an RSA nor an Ed25519 PKCS#8 key");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK 15+ always has Ed25519", e);
        }
    }
}
