package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

import java.time.Duration;

/**
 * When a session has waited too long (RFC 5321 §4.5.3.2: at least 5 minutes for commands, DATA blocks) or sends
 * a message too slowly to be anything but an attempt to hold connections open. Pure; times in nanoseconds.
 */
record ConnectionTimeouts(Duration command, Duration data, int minDataRate) {

    /** The grace period before the minimum data rate applies. */
    static final long RATE_GRACE_NANOS = Duration.ofSeconds(60).toNanos();

    /** The 421 to close with, or null. */
    Reply verdict(boolean inMessage, long sinceLastRead, long sinceMessageStart, long messageBytes) {
        if (!inMessage) {
            return sinceLastRead > command.toNanos() ? Replies.TIMEOUT : null;
        }
        if (sinceLastRead > data.toNanos()) {
            return Replies.TIMEOUT;
        }
        if (sinceMessageStart > RATE_GRACE_NANOS
                && messageBytes * 1_000_000_000L / sinceMessageStart < minDataRate) {
            return Replies.TOO_SLOW;
        }
        return null;
    }
}
