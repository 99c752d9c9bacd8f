package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.RemoteHost;
import dev.relay.delivery.tls.CertificateCheck;

/**
 * One address to connect to.
 *
 * @param hostName the name we were told (MX host, route host); used for SNI and certificate checks
 * @param address  the IP literal to connect to, already resolved and checked by the destination guard; the
 *                 connection goes to exactly these bytes and never resolves a name ({@code OutboundConnection.open})
 * @param port     the TCP port
 * @param tls      what TLS this hop demands
 * @param check    how the certificate is judged when the decision needed data of this delivery (DANE's TLSA
 *                 records, a table entry's {@code match=} names), checked after the handshake before anything is
 *                 sent; null: as {@code tls} alone says (VERIFY: WebPKI and the host name, during the handshake)
 * @param auth     the name of the credential to AUTH with (a configured or policy route's {@code auth}), null for
 *                 none; part of the identity of a pooled session, so that a session authenticated with one
 *                 credential is never reused for a hop that names another (or none)
 */
public record SmtpTarget(String hostName, String address, int port, TlsPolicy tls, CertificateCheck check,
                         String auth) {

    /** A target whose TLS policy alone says how its certificate is judged, without AUTH. */
    public SmtpTarget(String hostName, String address, int port, TlsPolicy tls) {
        this(hostName, address, port, tls, null, null);
    }

    /** A target with a certificate check, without AUTH. */
    public SmtpTarget(String hostName, String address, int port, TlsPolicy tls, CertificateCheck check) {
        this(hostName, address, port, tls, check, null);
    }

    /** A target that AUTHs with the credential {@code auth}. */
    public SmtpTarget(String hostName, String address, int port, TlsPolicy tls, String auth) {
        this(hostName, address, port, tls, null, auth);
    }

    /** This target with another TLS demand (the TLS policy decision of {@code dev.relay.delivery.tls}). */
    public SmtpTarget withTls(TlsPolicy policy, CertificateCheck certificateCheck) {
        return new SmtpTarget(hostName, address, port, policy, certificateCheck, auth);
    }

    /** {@code mx.example.org[192.0.2.1]:25}, the usual MTA notation, for events and logs. */
    public String describe() {
        return remote().describe();
    }

    /** This target as the host that answered a recipient's result. */
    public RemoteHost remote() {
        return new RemoteHost(hostName, address, port);
    }
}
