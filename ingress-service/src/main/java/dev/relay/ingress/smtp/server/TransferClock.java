package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.Reply;

/**
 * One connection's clocks for {@link ConnectionTimeouts}: when the client last sent anything, when the current
 * message started and how many of its bytes arrived, sampled into a {@link RateWindow} once per tick. Not
 * thread-safe (one connection's event loop).
 */
final class TransferClock {

    private final ConnectionTimeouts timeouts;
    private final RateWindow rateWindow;
    private long lastReadAt = System.nanoTime();
    private long messageStartedAt;
    private long messageBytes;

    TransferClock(ConnectionTimeouts timeouts) {
        this.timeouts = timeouts;
        this.rateWindow = new RateWindow(timeouts.windowTicks());
    }

    /** Bytes arrived; they count towards the message while one is being received. */
    void read(int bytes, boolean inMessage) {
        lastReadAt = System.nanoTime();
        if (inMessage) {
            messageBytes += bytes;
        }
    }

    /** A message starts (DATA, or its first BDAT chunk): from now on its rate and its duration are judged. */
    void startMessage() {
        if (messageStartedAt == 0) {
            messageStartedAt = System.nanoTime();
            messageBytes = 0;
            rateWindow.reset();
        }
    }

    /** The message ended (published or refused), or none started. */
    void noMessage() {
        messageStartedAt = 0;
    }

    /**
     * Once per tick: command timeout, data timeout, minimum data rate over the sliding window, longest message
     * transfer. The 421 to close with, or null.
     */
    Reply verdict(boolean inMessage) {
        long now = System.nanoTime();
        boolean judged = inMessage && messageStartedAt != 0;
        long inWindow = judged ? rateWindow.tick(messageBytes) : -1;
        return timeouts.verdict(judged, now - lastReadAt, judged ? now - messageStartedAt : 0, inWindow);
    }
}
