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
 * @param dsnPassedOn the server that answered offered DSN, so the sender's NOTIFY (and ORCPT) went on with the
 *                    recipient: a success is then that server's to report, not ours (RFC 3461 §4.1)
 */
public record RecipientResult(String recipient, DeliveryStatus status, Diagnostic diagnostic, RemoteHost peer,
                              String tlsProtocol, String tlsCipher, boolean dsnPassedOn) {

    public RecipientResult {
        Objects.requireNonNull(diagnostic, "diagnostic");
    }

    /** A result from a server that did not offer DSN (or from no server). */
    public RecipientResult(String recipient, DeliveryStatus status, Diagnostic diagnostic, RemoteHost peer,
                           String tlsProtocol, String tlsCipher) {
        this(recipient, status, diagnostic, peer, tlsProtocol, tlsCipher, false);
    }

    /** A result without TLS details. */
    public RecipientResult(String recipient, DeliveryStatus status, Diagnostic diagnostic, RemoteHost peer) {
        this(recipient, status, diagnostic, peer, null, null, false);
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
