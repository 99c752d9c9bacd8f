package dev.relay.delivery.tls;

import javax.net.ssl.X509TrustManager;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The certificate check of one DANE connection (RFC 7672 §3): the server's chain is judged against the TLSA records
 * of its MX host and nothing else — no WebPKI roots. Made per connection, used once after the handshake; pure CPU
 * (digests and signature checks over the few certificates the server sent), no I/O, so it may run on the event loop.
 * <ul>
 *   <li>DANE-EE(3): the leaf certificate (or its public key) matches. Its names and validity dates are ignored
 *       (RFC 7672 §3.1.1): the TLSA record alone binds the key to the MX host.</li>
 *   <li>DANE-TA(2): a certificate the server sent above the leaf matches, every certificate from the leaf up to it
 *       is signed by the next, the leaf is within its validity dates, and the leaf names the MX host, which is also
 *       the TLSA base domain since CNAMEs are not followed (RFC 7672 §3.1.2, §3.2.2). A trust anchor given only as
 *       a bare public key that the server does not send is not looked for.</li>
 * </ul>
 * Unusable records (RFC 7672 §3.1) are skipped here; an RRset of only unusable records never gets a
 * {@code DaneTrustManager} (it means mandatory unauthenticated TLS).
 */
public final class DaneTrustManager implements X509TrustManager {

    private final String host;
    private final List<TlsaRecord> records;

    /**
     * @param host    the MX host name (TLSA base domain), for the DANE-TA name check and the failure message
     * @param records the TLSA RRset of {@code _port._tcp.host}
     */
    public DaneTrustManager(String host, List<TlsaRecord> records) {
        this.host = host;
        this.records = List.copyOf(records);
    }

    /** The text of a failure, after {@code 4.7.5}: the same for every way of not matching. */
    public static String mismatch(String host) {
        return "DANE: no TLSA record matches the certificate of " + host;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException(mismatch(host) + " (no certificate)");
        }
        for (TlsaRecord tlsa : records) {
            if (tlsa.usable() && tlsa.usage() == TlsaRecord.DANE_EE && tlsa.matches(chain[0])) {
                return;
            }
        }
        for (int anchor = 1; anchor < chain.length; anchor++) {
            for (TlsaRecord tlsa : records) {
                if (tlsa.usable() && tlsa.usage() == TlsaRecord.DANE_TA && tlsa.matches(chain[anchor])
                        && signedUpTo(chain, anchor) && leafFitsHost(chain[0])) {
                    return;
                }
            }
        }
        throw new CertificateException(mismatch(host));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a DANE trust manager checks servers only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    /** chain[0] is signed by chain[1] ... chain[anchor-1] by chain[anchor]. */
    private static boolean signedUpTo(X509Certificate[] chain, int anchor) {
        for (int i = 0; i < anchor; i++) {
            if (!chain[i].getIssuerX500Principal().equals(chain[i + 1].getSubjectX500Principal())) {
                return false;
            }
            try {
                chain[i].verify(chain[i + 1].getPublicKey());
            } catch (GeneralSecurityException | RuntimeException e) {
                return false;
            }
        }
        return true;
    }

    private boolean leafFitsHost(X509Certificate leaf) {
        try {
            leaf.checkValidity();
        } catch (CertificateException e) {
            return false;
        }
        return CertificateNames.matchesAny(leaf, List.of(host));
    }
}
