package dev.relay.ingress.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/** Self-signed certificates made in the test, PEM-encoded the ways issuers write them. */
public final class TestCertificates {

    /** How the private key is written: PKCS#8, or the algorithm's own form (PKCS#1 for RSA, SEC 1 for EC). */
    public enum KeyEncoding { PKCS8, TRADITIONAL }

    /** A certificate and its key as PEM text. */
    public record Pem(X509Certificate certificate, String certificatePem, String keyPem) {

        public byte[] certificateBytes() {
            return certificatePem.getBytes(StandardCharsets.US_ASCII);
        }

        public byte[] keyBytes() {
            return keyPem.getBytes(StandardCharsets.US_ASCII);
        }

        /** This certificate with another pair's key. */
        public Pem withKeyOf(Pem other) {
            return new Pem(certificate, certificatePem, other.keyPem);
        }
    }

    private TestCertificates() {
    }

    /** An EC P-256 certificate for {@code cn}, valid from a day ago for {@code validFor}. */
    public static Pem ec(String cn, Duration validFor) {
        return create(cn, "EC", 256, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(validFor),
                KeyEncoding.PKCS8);
    }

    public static Pem create(String cn, String algorithm, int bits, Instant notBefore, Instant notAfter,
                             KeyEncoding encoding) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            generator.initialize(bits, new SecureRandom());
            KeyPair pair = generator.generateKeyPair();
            X500Name subject = new X500Name("CN=" + cn);
            var holder = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()),
                    Date.from(notBefore), Date.from(notAfter), subject, pair.getPublic())
                    .build(new JcaContentSignerBuilder(algorithm.equals("EC") ? "SHA256withECDSA" : "SHA256withRSA")
                            .build(pair.getPrivate()));
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(holder);
            String key = encoding == KeyEncoding.PKCS8 ? pem(new JcaPKCS8Generator(pair.getPrivate(), null))
                    : algorithm.equals("EC") ? sec1(pair) : pem(pair.getPrivate());
            return new Pem(certificate, pem(certificate), key);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** "EC PRIVATE KEY" with its named curve and public key, as OpenSSL and cert-manager write it. */
    private static String sec1(KeyPair pair) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(pair.getPrivate().getEncoded());
        ECPrivateKey inner = ECPrivateKey.getInstance(info.parsePrivateKey());
        ECPrivateKey withCurve = new ECPrivateKey(256, inner.getKey(),
                SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded()).getPublicKeyData(),
                info.getPrivateKeyAlgorithm().getParameters());
        return pem(new PemObject("EC PRIVATE KEY", withCurve.getEncoded()));
    }

    private static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }

    /**
     * A directory laid out like a Kubernetes Secret volume: {@code tls.crt} and {@code tls.key} are symlinks into
     * {@code ..data}, itself a symlink to a timestamped directory; {@link #publish} writes a new directory and swaps
     * {@code ..data} with one atomic rename, as the kubelet does on a renewal.
     */
    public static final class SecretVolume {
        private final Path dir;
        private int version;

        public SecretVolume(Path dir) {
            this.dir = dir;
        }

        public Path certificateFile() {
            return dir.resolve("tls.crt");
        }

        public Path keyFile() {
            return dir.resolve("tls.key");
        }

        public void publish(String certificatePem, String keyPem) {
            try {
                Files.createDirectories(dir);
                Path data = dir.resolve("..version_" + (++version) + "_" + System.nanoTime());
                Files.createDirectories(data);
                Files.writeString(data.resolve("tls.crt"), certificatePem, StandardCharsets.US_ASCII);
                Files.writeString(data.resolve("tls.key"), keyPem, StandardCharsets.US_ASCII);
                Path next = dir.resolve("..data_tmp");
                Files.deleteIfExists(next);
                Files.createSymbolicLink(next, data.getFileName());
                Files.move(next, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                for (String name : new String[]{"tls.crt", "tls.key"}) {
                    if (!Files.isSymbolicLink(dir.resolve(name))) {
                        Files.createSymbolicLink(dir.resolve(name), Path.of("..data", name));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public void publish(Pem pem) {
            publish(pem.certificatePem(), pem.keyPem());
        }
    }
}
