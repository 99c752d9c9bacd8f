package dev.relay.delivery.transport;

/** No complete reply within the phase's timeout (RFC 5321 §4.5.3.2). An I/O-level failure. */
public final class SmtpTimeoutException extends RuntimeException {

    public SmtpTimeoutException(String message) {
        super(message, null, false, false);
    }
}
