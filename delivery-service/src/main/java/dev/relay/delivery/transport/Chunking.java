package dev.relay.delivery.transport;

/**
 * When to send a message with BDAT instead of DATA (RFC 3030 CHUNKING): the server offers CHUNKING and the
 * message has at least {@code threshold} octets. BDAT sends the stored bytes as they are, in chunks of
 * {@code chunkSize} octets: no dot-stuffing, and the receiver does not scan for the end of data.
 *
 * @param threshold octets from which BDAT is used when offered; {@code 0} = always when offered, {@code -1} = never
 * @param chunkSize octets per BDAT chunk (the last one may be shorter), at least 1
 */
public record Chunking(long threshold, int chunkSize) {

    public static final int DEFAULT_SIZE = 1024 * 1024;

    public Chunking {
        if (threshold < -1) {
            throw new IllegalArgumentException("relay.delivery.smtp.chunking-threshold must be -1 (never), 0 or more");
        }
        if (chunkSize < 1) {
            throw new IllegalArgumentException("relay.delivery.smtp.chunk-size must be at least 1");
        }
    }

    /** Never BDAT (tools and tests that do not ask for it). */
    public static Chunking never() {
        return new Chunking(-1, DEFAULT_SIZE);
    }

    /** BDAT for this message on a server with these capabilities. */
    boolean use(Capabilities caps, int messageLength) {
        return threshold >= 0 && messageLength >= threshold && caps.has("CHUNKING");
    }
}
