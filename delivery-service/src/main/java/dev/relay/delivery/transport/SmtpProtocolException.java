package dev.relay.delivery.transport;

/** The server sent something that is not SMTP. An I/O-level failure: the hop is treated as unreachable. */
public final class SmtpProtocolException extends RuntimeException {

    public SmtpProtocolException(String message) {
        super(message);
    }
}
