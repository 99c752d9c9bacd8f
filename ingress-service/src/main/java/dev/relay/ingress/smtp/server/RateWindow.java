package dev.relay.ingress.smtp.server;

/**
 * Bytes received during the last N ticks of a message, from the running count sampled once per tick: a ring of
 * N + 1 samples, so its memory is fixed whatever the client does. Not thread-safe (one connection's event loop).
 */
final class RateWindow {

    private final long[] samples;
    private long ticks;

    RateWindow(int windowTicks) {
        samples = new long[windowTicks + 1];
    }

    /** A new message starts: forget the samples of the last one. */
    void reset() {
        ticks = 0;
    }

    /**
     * Records the running byte count of the message at this tick.
     *
     * @return the bytes received during the last N ticks, or -1 while fewer than N ticks of the message have passed
     */
    long tick(long totalBytes) {
        samples[(int) (ticks % samples.length)] = totalBytes;
        ticks++;
        if (ticks < samples.length) {
            return -1;
        }
        return totalBytes - samples[(int) (ticks % samples.length)]; // the oldest sample, N ticks ago
    }
}
