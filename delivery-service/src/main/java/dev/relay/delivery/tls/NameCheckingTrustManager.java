package dev.relay.delivery.tls;

import javax.net.ssl.X509TrustManager;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The certificate check of a {@code verify}/{@code secure} table entry with {@code match=} names: the chain must be
 * trusted by the WebPKI trust manager (the JDK's roots, loaded once at start), and the leaf must carry one of the
 * expected names ({@link CertificateNames}). Made per connection, used once after the handshake; no I/O (revocation
 * fetching is off in the JDK unless an operator turns it on).
 */
public final class NameCheckingTrustManager implements X509TrustManager {

    /** JSSE's auth type for TLS 1.3 and signature-based key exchanges: the key must allow digital signatures. */
    private static final String AUTH_TYPE = "UNKNOWN";

    private final X509TrustManager webPki;
    private final String host;
    private final List<String> names;

    public NameCheckingTrustManager(X509TrustManager webPki, String host, List<String> names) {
        this.webPki = webPki;
        this.host = host;
        this.names = List.copyOf(names);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("no certificate from " + host);
        }
        try {
            webPki.checkServerTrusted(chain, AUTH_TYPE);
        } catch (CertificateException e) {
            throw new CertificateException("certificate of " + host + " does not verify: " + e.getMessage(), e);
        }
        if (!CertificateNames.matchesAny(chain[0], names)) {
            throw new CertificateException("certificate of " + host + " names " + CertificateNames.of(chain[0]).stream().limit(5).toList()
                    + ", none of " + names);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("checks servers only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return webPki.getAcceptedIssuers();
    }
}
