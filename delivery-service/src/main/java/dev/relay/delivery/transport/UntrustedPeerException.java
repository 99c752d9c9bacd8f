package dev.relay.delivery.transport;

/**
 * The TLS handshake worked but the server's certificate failed the target's {@link SmtpTarget#check()} (DANE's
 * TLSA records, a table entry's names): the connection is closed without sending anything over it, and the host
 * counts as unreachable with {@code 4.7.5} (RFC 3463: cryptographic failure).
 */
final class UntrustedPeerException extends RuntimeException {

    UntrustedPeerException(String message) {
        super(message, null, false, false);
    }
}
