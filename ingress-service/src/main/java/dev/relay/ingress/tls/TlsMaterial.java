package dev.relay.ingress.tls;

import dev.relay.ingress.config.IngressConfig;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;

/**
 * Where the listeners' certificate and key come from: the configured PEM files, or a self-signed development
 * certificate generated at first start (never committed; written with owner-only permissions).
 */
public final class TlsMaterial {

    private static final Logger LOG = Logger.getLogger(TlsMaterial.class);

    /** @param generated the development certificate (not watched for changes) rather than configured files */
    public record PemFiles(String certFile, String keyFile, boolean generated) {
    }

    /** TLS 1.2 and 1.3 only (RFC 8996 retired the older ones). */
    public static final java.util.Set<String> PROTOCOLS = java.util.Set.of("TLSv1.2", "TLSv1.3");

    /**
     * Forward-secret AEAD suites only: no CBC, no RSA key exchange, no SHA-1 MACs (the Mozilla "intermediate"
     * profile). ECDSA and RSA variants, so an operator's RSA certificate works as well as the EC development one.
     */
    public static final java.util.List<String> CIPHER_SUITES = java.util.List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsMaterial() {
    }

    /** The PEM files to use, or empty when TLS is not available (no files and no generation). */
    public static Optional<PemFiles> resolve(IngressConfig.Tls tls, String serverName) {
        if (tls.certFile().isPresent() && tls.keyFile().isPresent()) {
            return Optional.of(new PemFiles(tls.certFile().get(), tls.keyFile().get(), false));
        }
        if (!tls.generateDevCertificate()) {
            return Optional.empty();
        }
        Path dir = Path.of(tls.devCertificateDir());
        Path cert = dir.resolve("dev-cert.pem");
        Path key = dir.resolve("dev-key.pem");
        if (!Files.exists(cert) || !Files.exists(key)) {
            generate(serverName, cert, key);
        }
        return Optional.of(new PemFiles(cert.toString(), key.toString(), true));
    }

    private static void generate(String serverName, Path cert, Path key) {
        try {
            Files.createDirectories(cert.getParent());
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(256, new SecureRandom());
            KeyPair pair = generator.generateKeyPair();
            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=" + serverName + ", O=Relay development certificate");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(Duration.ofDays(365))), subject, pair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                    new GeneralName(GeneralName.dNSName, serverName),
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            var certificate = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            Path tmpKey = Files.createTempFile(key.getParent(), "key", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmpKey, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null)));
            Files.move(tmpKey, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(cert, pem(certificate));
            LOG.infof("generated a self-signed development certificate in %s (not for production)", cert.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot generate a development certificate", e);
        }
    }

    private static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }
}
