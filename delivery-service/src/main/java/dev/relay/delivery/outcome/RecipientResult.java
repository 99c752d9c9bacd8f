package dev.relay.delivery.outcome;

import java.util.Objects;

/**
 * What happened to one recipient at one hop, as fields from the SMTP client to retry, DSN and events.
 *
 * @param recipient   the forward path
 * @param status      delivered, transient or permanent
 * @param diagnostic  the remote reply or our own reason, with its code, enhanced status and phase
 * @param peer        the host that answered, or null if none did
 * @param tlsProtocol the TLS protocol of the session that gave the answer ({@code TLSv1.3}), null on plain text
 *                    or when no session took place
 * @param tlsCipher   the cipher suite of that session, null likewise
 * @param peerCertificates the certificates that session's server presented (in memory only), none without TLS
 * @param mtaSts      what MTA-STS said about this attempt (event field), null when the domain has no policy
 * @param dsnPassedOn the server that answered offered DSN, so the sender's NOTIFY (and ORCPT) went on with the
 *                    recipient: a success is then that server's to report, not ours (RFC 3461 §4.1)
 * @param tlsDecision the outbound TLS decision of this attempt (event field, TLS-RPT), null when none was made
 *                    (no host to connect to, a recipient never attempted)
 */
public record RecipientResult(String recipient, DeliveryStatus status, Diagnostic diagnostic, RemoteHost peer,
                              String tlsProtocol, String tlsCipher, PeerCertificates peerCertificates,
                              MtaStsCheck mtaSts, boolean dsnPassedOn, TlsDecision tlsDecision) {

    public RecipientResult {
        Objects.requireNonNull(diagnostic, "diagnostic");
        peerCertificates = peerCertificates == null ? PeerCertificates.NONE : peerCertificates;
    }

    /** A result without a TLS decision (the delivery's TLS policy adds it afterwards). */
    public RecipientResult(String recipient, DeliveryStatus status, Diagnostic diagnostic, RemoteHost peer,
                           String tlsProtocol, String tlsCipher, PeerCertificates peerCertificates,
                           MtaStsCheck mtaSts, boolean dsnPassedOn) {
        this(recipient, status, diagnostic, peer, tlsProtocol, tlsCipher, peerCertificates, mtaSts, dsnPassedOn,
                null);
    }

    /** A result with TLS details, from a server that did not offer DSN, without certificates or MTA-STS check. */
    public RecipientResult(String recipient, DeliveryStatus status, Diagnostic diagnostic, RemoteHost peer,
                           String tlsProtocol, String tlsCipher) {
        this(recipient, status, diagnostic, peer, tlsProtocol, tlsCipher, false);
    }

    /** A result with TLS details, without certificates or MTA-STS check. */
    public RecipientResult(String recipient, DeliveryStatus status, Diagnostic diagnostic, RemoteHost peer,
                           String tlsProtocol, String tlsCipher, boolean dsnPassedOn) {
        this(recipient, status, diagnostic, peer, tlsProtocol, tlsCipher, PeerCertificates.NONE, null, dsnPassedOn);
    }

    /** A result without TLS details. */
    public RecipientResult(String recipient, DeliveryStatus status, Diagnostic diagnostic, RemoteHost peer) {
        this(recipient, status, diagnostic, peer, null, null, false);
    }

    /** This result with what MTA-STS said about its attempt. */
    public RecipientResult withMtaSts(MtaStsCheck check) {
        return new RecipientResult(recipient, status, diagnostic, peer, tlsProtocol, tlsCipher, peerCertificates,
                check, dsnPassedOn, tlsDecision);
    }

    /** This result with the TLS decision of its attempt. */
    public RecipientResult withTlsDecision(TlsDecision decision) {
        return new RecipientResult(recipient, status, diagnostic, peer, tlsProtocol, tlsCipher, peerCertificates,
                mtaSts, dsnPassedOn, decision);
    }

    /** This result with another reason (same status). */
    public RecipientResult withDiagnostic(Diagnostic reason) {
        return new RecipientResult(recipient, status, reason, peer, tlsProtocol, tlsCipher, peerCertificates,
                mtaSts, dsnPassedOn, tlsDecision);
    }

    /** The reply or reason on one line ({@code 550 5.1.1 ...}), as events and the DSN show it. */
    public String detail() {
        return diagnostic.text();
    }

    /** The host that answered ({@code mx.example.org[192.0.2.1]:25}), or null if none did. */
    public String remote() {
        return peer == null ? null : peer.describe();
    }
}
