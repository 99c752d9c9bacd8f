package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.session.Action;
import dev.relay.ingress.smtp.session.SmtpSession;
import io.vertx.core.buffer.Buffer;

/**
 * Cuts the bytes a client sent into what the session takes: CRLF-ended lines (only CRLF ends one; a bare LF is
 * reported, never skipped), DATA content up to the end its decoder finds, BDAT chunks of announced length. It holds
 * the bytes not consumed yet; its owner bounds them (while commands wait) and decides what is read next.
 */
final class InputFramer {

    /** Octets of one over-long command or SASL line discarded before the client is closed (4 AUTH lines' worth). */
    static final long MAX_DISCARDED_LINE = 4L * SmtpSession.MAX_AUTH_LINE;

    /** What {@link #nextLine} found. */
    sealed interface Cut {
        /** A complete line, without its CRLF. */
        record Line(byte[] bytes) implements Cut {
        }

        /** A bare LF: everything pending was dropped. */
        record BareLineFeed() implements Cut {
        }

        /** An over-long line ended (it was dropped). */
        record TooLong() implements Cut {
        }

        /**
         * No complete line yet. {@code discarding}: what arrived is over the limit and was dropped (the rest of the
         * line will be too); {@code endless}: beyond {@link #MAX_DISCARDED_LINE}.
         */
        record Incomplete(boolean discarding, boolean endless) implements Cut {
        }
    }

    private Buffer pending = Buffer.buffer();
    private DataDecoder decoder;
    private Action.ReadChunk chunk;
    private long chunkRemaining;
    /** Octets of the over-long line being discarded so far. */
    private long discardedLine;

    void append(Buffer bytes) {
        pending.appendBuffer(bytes);
    }

    int length() {
        return pending.length();
    }

    void clear() {
        pending = Buffer.buffer();
    }

    /** DATA content follows: fed to this decoder until its end. */
    void startData(DataDecoder data) {
        decoder = data;
    }

    /** A BDAT chunk follows: exactly its size in octets, into its buffer (or dropped when it has none). */
    void startChunk(Action.ReadChunk read) {
        chunk = read;
        chunkRemaining = read.size();
    }

    /** Feeds pending bytes to the DATA decoder; the decoder when the data ended (the bytes after it stay), or null. */
    DataDecoder feedData() {
        byte[] bytes = pending.getBytes();
        int end = decoder.feed(bytes, 0, bytes.length);
        if (end < 0) {
            pending = Buffer.buffer();
            return null;
        }
        pending = Buffer.buffer().appendBytes(bytes, end, bytes.length - end);
        DataDecoder done = decoder;
        decoder = null;
        return done;
    }

    /** Moves up to the rest of the current BDAT chunk into its buffer; the chunk when complete, or null. */
    Action.ReadChunk feedChunk() {
        int take = (int) Math.min(chunkRemaining, pending.length());
        if (chunk.buffer() != null && take > 0) {
            chunk.buffer().write(pending.getBytes(0, take), 0, take);
        }
        pending = pending.getBuffer(take, pending.length());
        chunkRemaining -= take;
        if (chunkRemaining > 0) {
            return null;
        }
        Action.ReadChunk done = chunk;
        chunk = null;
        return done;
    }

    /**
     * The next line. A bare LF (not after CR) never ends a line here and is never skipped: the session refuses it
     * and closes, so neither the text before it nor the text after it is executed (a line split differently by a
     * front end and by us is how commands are smuggled).
     *
     * @param discarding whether the line being read is already over-long (its rest is dropped up to the CRLF)
     * @param limit      the longest line the session takes now
     */
    Cut nextLine(boolean discarding, int limit) {
        int length = pending.length();
        for (int i = 0; i < length; i++) {
            if (pending.getByte(i) != '\n') {
                continue;
            }
            boolean crlf = i > 0 && pending.getByte(i - 1) == '\r';
            if (!crlf) {
                pending = Buffer.buffer();
                return new Cut.BareLineFeed();
            }
            int lineLimit = lineLimit(limit);
            byte[] line = pending.getBytes(0, i - 1);
            pending = pending.getBuffer(i + 1, length);
            if (discarding || line.length > lineLimit) {
                discardedLine = 0;
                return new Cut.TooLong();
            }
            return new Cut.Line(line);
        }
        if (length > lineLimit(limit)) {
            // An over-long line is discarded and answered at its end, so a client that made one mistake keeps its
            // session; a line that never ends is not a mistake: beyond the bound, answer and close.
            discardedLine += length;
            pending = Buffer.buffer();
            return new Cut.Incomplete(true, discardedLine > MAX_DISCARDED_LINE);
        }
        return new Cut.Incomplete(false, false);
    }

    /** RFC 4954 §4: an AUTH command with its initial response may be as long as a SASL response line. */
    private int lineLimit(int limit) {
        boolean auth = pending.length() >= 5
                && pending.getString(0, 5, "US-ASCII").equalsIgnoreCase("AUTH ");
        return auth ? SmtpSession.MAX_AUTH_LINE : limit;
    }
}
