package dev.relay.delivery.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * Certificates made at run time for the TLS tests (nothing is committed): a CA, leaves it issues, self-signed
 * leaves, and the TLSA association data of each. EC P-256 keys: quick to make.
 */
public final class TestPki {

    private static final char[] PASSWORD = "test".toCharArray();

    /** A certificate, its key pair and the chain a server sends with it (leaf first). */
    public record Issued(X509Certificate certificate, KeyPair keys, X509Certificate[] chain) {

        /** A server-side TLS context presenting {@link #chain}. */
        public SSLContext serverContext() {
            try {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry("smtp", keys.getPrivate(), PASSWORD, chain);
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(store, PASSWORD);
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(kmf.getKeyManagers(), null, null);
                return context;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** SHA-256 of the SubjectPublicKeyInfo: the data of a {@code x 1 1} TLSA record. */
        public byte[] spkiSha256() {
            return sha256(certificate.getPublicKey().getEncoded());
        }

        /** SHA-256 of the whole certificate: the data of a {@code x 0 1} TLSA record. */
        public byte[] certSha256() {
            try {
                return sha256(certificate.getEncoded());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private TestPki() {
    }

    public static Issued ca(String cn) {
        KeyPair keys = keyPair();
        X509Certificate cert = build(cn, keys, cn, keys, true, validFrom(), validUntil());
        return new Issued(cert, keys, new X509Certificate[]{cert});
    }

    /** A self-signed leaf for these DNS names (CN is the first). */
    public static Issued selfSigned(String... dnsNames) {
        KeyPair keys = keyPair();
        X509Certificate cert = build(dnsNames[0], keys, dnsNames[0], keys, false, validFrom(), validUntil(),
                dnsNames);
        return new Issued(cert, keys, new X509Certificate[]{cert});
    }

    /** A leaf issued by {@code ca}; the server sends [leaf, ca]. */
    public static Issued issue(Issued ca, String... dnsNames) {
        KeyPair keys = keyPair();
        X509Certificate cert = build(dnsNames[0], keys, ca.certificate().getSubjectX500Principal().getName(),
                ca.keys(), false, validFrom(), validUntil(), dnsNames);
        return new Issued(cert, keys, new X509Certificate[]{cert, ca.certificate()});
    }

    /** A self-signed leaf that expired yesterday. */
    public static Issued expired(String dnsName) {
        KeyPair keys = keyPair();
        Instant now = Instant.now();
        X509Certificate cert = build(dnsName, keys, dnsName, keys, false, now.minus(Duration.ofDays(10)),
                now.minus(Duration.ofDays(1)), dnsName);
        return new Issued(cert, keys, new X509Certificate[]{cert});
    }

    /** A trust manager whose only root is {@code root} (the "WebPKI" of a test). */
    public static X509TrustManager trusting(X509Certificate root) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("root", root);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return (X509TrustManager) tmf.getTrustManagers()[0];
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Instant validFrom() {
        return Instant.now().minus(Duration.ofDays(1));
    }

    private static Instant validUntil() {
        return Instant.now().plus(Duration.ofDays(2));
    }

    private static KeyPair keyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            return generator.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate build(String subjectCn, KeyPair subject, String issuer, KeyPair issuerKeys,
                                         boolean ca, Instant notBefore, Instant notAfter, String... dnsNames) {
        try {
            X500Name issuerName = issuer.contains("=") ? new X500Name(issuer) : new X500Name("CN=" + issuer);
            var builder = new JcaX509v3CertificateBuilder(issuerName, new BigInteger(64, new SecureRandom()),
                    Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + subjectCn), subject.getPublic());
            if (ca) {
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
                builder.addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            } else {
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
                builder.addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
                GeneralName[] names = new GeneralName[dnsNames.length];
                for (int i = 0; i < dnsNames.length; i++) {
                    names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
                }
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            var holder = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate()));
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
