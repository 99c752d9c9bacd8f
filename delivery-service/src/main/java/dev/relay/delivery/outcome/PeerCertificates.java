package dev.relay.delivery.outcome;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The certificate chain a remote server presented in the TLS session that gave a result, leaf first; in memory
 * only (never in events, retry records or logs: {@link #toString()} gives the count), so that a policy such as
 * MTA-STS {@code testing} can judge after the fact whether the session would have verified.
 */
public record PeerCertificates(List<X509Certificate> chain) {

    public static final PeerCertificates NONE = new PeerCertificates(List.of());

    public PeerCertificates {
        chain = List.copyOf(chain);
    }

    /** The chain of {@code session}; {@link #NONE} for plain text or an unauthenticated peer. */
    public static PeerCertificates of(SSLSession session) {
        if (session == null) {
            return NONE;
        }
        try {
            List<X509Certificate> chain = new ArrayList<>();
            for (Certificate certificate : session.getPeerCertificates()) {
                if (certificate instanceof X509Certificate x509) {
                    chain.add(x509);
                }
            }
            return new PeerCertificates(chain);
        } catch (SSLPeerUnverifiedException e) {
            return NONE;
        }
    }

    @Override
    public String toString() {
        return "PeerCertificates[" + chain.size() + "]";
    }
}
