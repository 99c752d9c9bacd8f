package dev.relay.delivery.tls;

import javax.net.ssl.X509TrustManager;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * How the certificate of one target is judged, beyond what its {@link dev.relay.delivery.transport.TlsPolicy}
 * says, when the decision needs data of this delivery (TLSA records, {@code match=} names). The transport runs the
 * check right after the TLS handshake and before it sends anything over the channel (not even EHLO); a failure
 * ends the connection as a {@code 4.7.5} transient failure of that host. Records, so that a pooled session is
 * reused only for a target with the same check ({@code SessionPool} keys by target).
 */
public sealed interface CertificateCheck {

    /** The per-connection trust manager; {@code webPki} is the delivery's WebPKI trust manager. */
    X509TrustManager trustManager(String host, X509TrustManager webPki);

    /** What demanded TLS, for log and failure texts: {@code DANE}, {@code verify}. */
    String describe();

    /** Throws when {@code chain} does not pass; the message says why (never a secret: certificates are public). */
    default void check(String host, X509Certificate[] chain, X509TrustManager webPki) throws CertificateException {
        trustManager(host, webPki).checkServerTrusted(chain, "UNKNOWN");
    }

    /** DANE (RFC 7672): the TLSA RRset of the MX host, at least one record usable. */
    record Dane(List<TlsaRecord> records) implements CertificateCheck {
        public Dane {
            records = List.copyOf(records);
        }

        @Override
        public X509TrustManager trustManager(String host, X509TrustManager webPki) {
            return new DaneTrustManager(host, records);
        }

        @Override
        public String describe() {
            return "DANE";
        }
    }

    /** WebPKI, and the leaf must carry one of these names ({@code match=} of a table entry). */
    record Names(List<String> names) implements CertificateCheck {
        public Names {
            names = List.copyOf(names);
        }

        @Override
        public X509TrustManager trustManager(String host, X509TrustManager webPki) {
            return new NameCheckingTrustManager(webPki, host, names);
        }

        @Override
        public String describe() {
            return "verify";
        }
    }
}
