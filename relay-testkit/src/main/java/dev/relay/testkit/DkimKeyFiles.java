package dev.relay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * DKIM keys generated at run time for the local stack and the tests (none is ever committed): key pairs, the key
 * file the policy service reads ({@code <dir>/<domain>/<selector>.pem}, unencrypted PKCS#8 PEM) and the DNS TXT
 * value a verifier needs ({@code v=DKIM1; k=rsa|ed25519; p=...}).
 */
public final class DkimKeyFiles {

    private static final String PEM_TYPE = "PRIVATE" + " KEY";

    private DkimKeyFiles() {
    }

    public static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(bits);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair ed25519() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** PEM text of a private key in PKCS#8. */
    public static String pem(PrivateKey key) {
        return "-----BEGIN " + PEM_TYPE + "-----\n"
                + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(key.getEncoded())
                + "\n-----END " + PEM_TYPE + "-----\n";
    }

    /** Writes {@code <dir>/<domain>/<selector>.pem} (owner-readable only where the file system allows). */
    public static Path write(Path dir, String domain, String selector, PrivateKey key) {
        try {
            Path domainDir = Files.createDirectories(dir.resolve(domain));
            Path file = domainDir.resolve(selector + ".pem");
            Path tmp = domainDir.resolve("." + selector + ".pem.tmp");
            Files.writeString(tmp, pem(key), StandardCharsets.US_ASCII);
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
            return Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The TXT record value of a public key: RSA as SubjectPublicKeyInfo, Ed25519 as the raw 32 bytes (RFC 8463). */
    public static String txt(PublicKey key) {
        byte[] encoded = key.getEncoded();
        if (key.getAlgorithm().equals("RSA")) {
            return "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(encoded);
        }
        // an Ed25519 SubjectPublicKeyInfo is a 12-byte header and the 32-byte key
        return "v=DKIM1; k=ed25519; p=" + Base64.getEncoder().encodeToString(
                Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length));
    }

    /** The public key of an RSA private key file written by {@link #write} (for a TXT value of a kept key). */
    public static PublicKey rsaPublicKey(Path pemFile) {
        try {
            String text = Files.readString(pemFile, StandardCharsets.US_ASCII);
            String base64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(
                    new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
            RSAPrivateCrtKey crt = (RSAPrivateCrtKey) key;
            BigInteger modulus = crt.getModulus();
            return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(modulus, crt.getPublicExponent()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | ClassCastException | IllegalArgumentException e) {
            throw new IllegalStateException(pemFile + " is not an RSA PKCS#8 key: " + e.getClass().getSimpleName());
        }
    }
}
