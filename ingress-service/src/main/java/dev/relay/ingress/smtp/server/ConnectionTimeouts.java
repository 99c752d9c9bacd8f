package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

import java.time.Duration;

/**
 * When a session has waited too long (RFC 5321 §4.5.3.2: at least 5 minutes for commands, DATA blocks) or sends
 * a message too slowly to be anything but an attempt to hold connections and memory. The data rate is judged over
 * a sliding window ({@link RateWindow}), never averaged from the start of the message: a client that sends most of
 * a large message at once and then trickles would otherwise keep its reservation for hours. The whole message
 * transfer is capped as well. Pure; times in nanoseconds.
 *
 * @param rateWindow         the window the minimum rate is judged over (also the grace at the start of a message)
 * @param maxMessageDuration the longest a message (from its first byte to its end, across BDAT chunks) may take
 */
record ConnectionTimeouts(Duration command, Duration data, int minDataRate, Duration rateWindow,
                          Duration maxMessageDuration) {

    /**
     * The 421 to close with, or null.
     *
     * @param bytesInWindow bytes received during the last {@link #rateWindow}, or -1 while the message is younger
     */
    Reply verdict(boolean inMessage, long sinceLastRead, long sinceMessageStart, long bytesInWindow) {
        if (!inMessage) {
            return sinceLastRead > command.toNanos() ? Replies.TIMEOUT : null;
        }
        if (sinceLastRead > data.toNanos()) {
            return Replies.TIMEOUT;
        }
        if (sinceMessageStart > maxMessageDuration.toNanos()) {
            return Replies.MESSAGE_TOO_SLOW;
        }
        if (bytesInWindow >= 0 && bytesInWindow < (long) minDataRate * Math.max(1, rateWindow.toSeconds())) {
            return Replies.TOO_SLOW;
        }
        return null;
    }

    /** The rate window in ticks of the connection's one-second timer. */
    int windowTicks() {
        return (int) Math.max(1, rateWindow.toSeconds());
    }
}
