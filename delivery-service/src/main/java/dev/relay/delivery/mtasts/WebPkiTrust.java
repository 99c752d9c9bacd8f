package dev.relay.delivery.mtasts;

import io.vertx.core.net.TrustOptions;

import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The roots that "verified" TLS trusts (WebPKI): the JDK's, plus the CA certificates of
 * {@code relay.delivery.tls.trust-store} when it is set (a private CA of an internal next hop; the tests' run-time
 * CA). Used for the MTA-STS policy fetch, for the connections of TLS policy {@code VERIFY} (MTA-STS enforce among
 * them), and to judge after the fact whether an opportunistic session of an MTA-STS {@code testing} domain would
 * have passed. Pure CPU, no I/O after construction: safe on an event loop.
 */
public final class WebPkiTrust {

    private final X509TrustManager trustManager;
    private final TrustManagerFactory factory;
    private final int extraRoots;

    private WebPkiTrust(TrustManagerFactory factory, int extraRoots) {
        this.factory = factory;
        this.trustManager = (X509TrustManager) List.of(factory.getTrustManagers()).stream()
                .filter(tm -> tm instanceof X509TrustManager).findFirst()
                .orElseThrow(() -> new IllegalStateException("no X509TrustManager"));
        this.extraRoots = extraRoots;
    }

    /** The JDK's roots only. */
    public static WebPkiTrust jdk() {
        return of(Optional.empty());
    }

    /** The JDK's roots, plus the certificates of this PEM file when given (read once, at start). */
    public static WebPkiTrust of(Optional<Path> extraPem) {
        try {
            TrustManagerFactory jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            jdk.init((KeyStore) null);
            if (extraPem.isEmpty()) {
                return new WebPkiTrust(jdk, 0);
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            for (TrustManager tm : jdk.getTrustManagers()) {
                if (tm instanceof X509TrustManager x509) {
                    for (X509Certificate root : x509.getAcceptedIssuers()) {
                        store.setCertificateEntry("jdk-" + n++, root);
                    }
                }
            }
            Collection<? extends Certificate> extra;
            try (InputStream in = Files.newInputStream(extraPem.get())) {
                extra = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (extra.isEmpty()) {
                throw new IllegalArgumentException("no certificate in " + extraPem.get());
            }
            int e = 0;
            for (Certificate certificate : extra) {
                store.setCertificateEntry("extra-" + e++, certificate);
            }
            TrustManagerFactory combined = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            combined.init(store);
            return new WebPkiTrust(combined, e);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read trust store " + extraPem.orElse(null), ex);
        } catch (GeneralSecurityException ex) {
            throw new IllegalStateException("cannot build the trust store: " + ex.getMessage(), ex);
        }
    }

    /** For Vert.x clients (HTTP for policies, NetClient for SMTP with TLS policy VERIFY). */
    public TrustOptions trustOptions() {
        return TrustOptions.wrap(factory);
    }

    /** The same roots as a trust manager (for clients that take one rather than Vert.x options). */
    public X509TrustManager trustManager() {
        return trustManager;
    }

    /** Certificates added to the JDK's roots (0 when none were configured). */
    public int extraRoots() {
        return extraRoots;
    }

    /**
     * True when {@code chain} (leaf first) chains to a trusted root and its leaf names {@code host} in a dNSName
     * subject alternative name (a wildcard only as the whole left-most label, matching one label: RFC 8461 §4.1,
     * RFC 6125 §6.4.3). The common name is not consulted.
     */
    public boolean verifies(List<X509Certificate> chain, String host) {
        if (chain.isEmpty()) {
            return false;
        }
        try {
            // "UNKNOWN": the key exchange is not known here (TLS 1.3 has none in the cipher suite either)
            trustManager.checkServerTrusted(chain.toArray(X509Certificate[]::new), "UNKNOWN");
        } catch (CertificateException | RuntimeException e) {
            return false;
        }
        return namesHost(chain.get(0), host);
    }

    /** The leaf's dNSName SANs match {@code host}. */
    static boolean namesHost(X509Certificate leaf, String host) {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans == null) {
                return false;
            }
            List<String> dnsNames = new ArrayList<>();
            for (List<?> san : sans) {
                if (san.size() >= 2 && Integer.valueOf(2).equals(san.get(0)) && san.get(1) instanceof String s) {
                    dnsNames.add(s.toLowerCase(Locale.ROOT));
                }
            }
            for (String san : dnsNames) {
                if (san.equals(name)) {
                    return true;
                }
                if (san.startsWith("*.") && san.indexOf('*', 1) < 0) {
                    int dot = name.indexOf('.');
                    if (dot > 0 && name.substring(dot).equals(san.substring(1))) {
                        return true;
                    }
                }
            }
            return false;
        } catch (CertificateException e) {
            return false;
        }
    }
}
