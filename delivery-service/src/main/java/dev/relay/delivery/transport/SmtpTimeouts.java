package dev.relay.delivery.transport;

import java.time.Duration;

/**
 * Per-phase timeouts, RFC 5321 §4.5.3.2.
 *
 * @param connect TCP connect
 * @param command the greeting and every command reply (the RFC asks for at least 5 minutes)
 * @param data    the reply to the final {@code .CRLF} (the RFC asks for at least 10 minutes)
 */
public record SmtpTimeouts(Duration connect, Duration command, Duration data) {
}
