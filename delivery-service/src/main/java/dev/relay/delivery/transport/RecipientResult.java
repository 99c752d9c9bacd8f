package dev.relay.delivery.transport;

/**
 * What happened to one recipient at one hop.
 *
 * @param recipient the forward path
 * @param status    delivered, transient or permanent
 * @param detail    the remote reply ({@code 550 5.1.1 ...}) or our own reason, in reply form
 * @param remote    the host that answered ({@code mx.example.org[192.0.2.1]:25}), or null if none did
 * @param tlsProtocol the TLS protocol of the session that gave the answer ({@code TLSv1.3}), null on plain text
 *                  or when no session took place
 * @param tlsCipher the cipher suite of that session, null likewise
 */
public record RecipientResult(String recipient, DeliveryStatus status, String detail, String remote,
                              String tlsProtocol, String tlsCipher) {

    /** A result without TLS details. */
    public RecipientResult(String recipient, DeliveryStatus status, String detail, String remote) {
        this(recipient, status, detail, remote, null, null);
    }
}
