package dev.relay.ingress.tls;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate chain and its private key, checked before any listener serves them: both PEM files parse
 * completely (a file cut off mid-write does not), the key signs what the leaf certificate's public key verifies,
 * and the leaf has not expired. Keys in PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}, what
 * cert-manager writes by default for RSA) and SEC 1 ({@code EC PRIVATE KEY}) form are read.
 *
 * <p>The reasons of {@link Invalid} never quote the key file: they are logged.
 */
public record TlsIdentity(List<X509Certificate> chain, PrivateKey key) {

    /** Why a pair cannot be served; the message is safe to log (names the problem, never key material). */
    public static final class Invalid extends Exception {
        public Invalid(String reason) {
            super(reason);
        }
    }

    public TlsIdentity {
        chain = List.copyOf(chain);
    }

    /** The certificate clients see first. */
    public X509Certificate leaf() {
        return chain.get(0);
    }

    /** End of the leaf's validity. */
    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** Parses and checks a pair read from the certificate and key files; {@code now} judges expiry. */
    public static TlsIdentity parse(byte[] certificatePem, byte[] keyPem, Instant now) throws Invalid {
        List<X509Certificate> chain = certificates(certificatePem);
        PrivateKey key = privateKey(keyPem);
        X509Certificate leaf = chain.get(0);
        if (!signsFor(key, leaf)) {
            throw new Invalid("the private key does not belong to the certificate " + describe(leaf));
        }
        if (leaf.getNotAfter().toInstant().isBefore(now)) {
            throw new Invalid("the certificate " + describe(leaf) + " has expired");
        }
        return new TlsIdentity(chain, key);
    }

    /** Subject, serial and end of validity: enough for an operator to recognise a certificate in the logs. */
    public static String describe(X509Certificate certificate) {
        return "'" + certificate.getSubjectX500Principal().getName() + "' serial "
                + certificate.getSerialNumber().toString(16) + " valid until " + certificate.getNotAfter().toInstant();
    }

    private static List<X509Certificate> certificates(byte[] pem) throws Invalid {
        List<X509Certificate> chain = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof X509CertificateHolder holder) {
                    chain.add(converter.getCertificate(holder));
                }
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new Invalid("the certificate file does not parse as PEM certificates ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
        if (chain.isEmpty()) {
            throw new Invalid("the certificate file holds no PEM certificate");
        }
        return chain;
    }

    private static PrivateKey privateKey(byte[] pem) throws Invalid {
        List<PrivateKey> keys = new ArrayList<>();
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                if (object instanceof PEMKeyPair pair) {
                    // the private part only: a SEC 1 key need not carry its public key
                    keys.add(converter.getPrivateKey(pair.getPrivateKeyInfo()));
                } else if (object instanceof PrivateKeyInfo info) {
                    keys.add(converter.getPrivateKey(info));
                } else if (object instanceof ASN1ObjectIdentifier || object instanceof X9ECParameters) {
                    continue; // an "EC PARAMETERS" block before a SEC 1 key
                } else {
                    throw new Invalid("the key file holds a " + object.getClass().getSimpleName()
                            + " where an unencrypted private key was expected");
                }
            }
        } catch (IOException | RuntimeException e) {
            // the parser's message may quote what it read: name the kind of failure only
            throw new Invalid("the key file does not parse as a PEM private key (" + e.getClass().getSimpleName() + ")");
        }
        if (keys.size() != 1) {
            throw new Invalid("the key file holds " + keys.size() + " private keys, expected exactly one");
        }
        return keys.get(0);
    }

    /** Signs a random challenge with the key and verifies it with the certificate's public key. */
    private static boolean signsFor(PrivateKey key, X509Certificate certificate) throws Invalid {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> throw new Invalid("unsupported private key algorithm " + key.getAlgorithm());
        };
        byte[] challenge = new byte[32];
        new SecureRandom().nextBytes(challenge);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false; // e.g. an RSA key with an EC certificate
        }
    }
}
