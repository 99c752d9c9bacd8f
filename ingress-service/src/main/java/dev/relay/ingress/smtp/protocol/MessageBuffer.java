package dev.relay.ingress.smtp.protocol;

import java.io.ByteArrayOutputStream;

/**
 * Holds the bytes of one message as they arrive (after dot-unstuffing for DATA, raw for BDAT) and judges them:
 * a bare CR or bare LF anywhere, a text line longer than the limit, more bytes than the size limit, or no memory
 * left in the shared {@link MemoryBudget}. Beyond any limit the bytes are no longer kept (bounded memory), but
 * counting goes on so the reply can come at the real end of the message.
 */
public final class MessageBuffer {

    public enum Outcome { OK, BARE_LINE_ENDING, TOO_BIG, LINE_TOO_LONG, NO_MEMORY }

    private static final int RESERVE_STEP = 64 * 1024;

    private final long maxSize;
    private final int maxLineLength;
    private final MemoryBudget budget;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    private long size;
    private long reserved;
    private int lineLength;
    private boolean afterCr;
    private boolean bareLineEnding;
    private boolean tooBig;
    private boolean lineTooLong;
    private boolean noMemory;

    /**
     * @param maxSize       largest message, in bytes, including {@code prefix}
     * @param maxLineLength longest text line in octets including its CRLF (RFC 5321 §4.5.3.1.6: at least 1000)
     * @param prefix        our Received: header, written first
     */
    public MessageBuffer(long maxSize, int maxLineLength, MemoryBudget budget, byte[] prefix) {
        this.maxSize = maxSize;
        this.maxLineLength = maxLineLength;
        this.budget = budget;
        write(prefix, 0, prefix.length);
    }

    public void write(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            write(bytes[i]);
        }
    }

    public void write(byte b) {
        if (afterCr && b != '\n') {
            bareLineEnding = true;
        }
        if (b == '\n' && !afterCr) {
            bareLineEnding = true;
        }
        afterCr = b == '\r';
        if (b == '\n') {
            lineLength = 0;
        } else if (b != '\r' && ++lineLength > maxLineLength - 2) { // the limit counts the CRLF
            lineTooLong = true;
        }
        if (++size > maxSize) {
            tooBig = true;
        }
        if (tooBig || noMemory || lineTooLong || bareLineEnding) {
            return; // judged already: stop keeping bytes, keep counting
        }
        if (out.size() >= reserved) {
            if (!budget.tryReserve(RESERVE_STEP)) {
                noMemory = true;
                return;
            }
            reserved += RESERVE_STEP;
        }
        out.write(b);
    }

    public Outcome outcome() {
        if (bareLineEnding || afterCr) {
            return Outcome.BARE_LINE_ENDING;
        }
        if (tooBig) {
            return Outcome.TOO_BIG;
        }
        if (lineTooLong) {
            return Outcome.LINE_TOO_LONG;
        }
        return noMemory ? Outcome.NO_MEMORY : Outcome.OK;
    }

    /** Whether a limit was already crossed (BDAT answers an intermediate chunk with the refusal at once). */
    public boolean failed() {
        return bareLineEnding || tooBig || lineTooLong || noMemory;
    }

    public byte[] bytes() {
        return out.toByteArray();
    }

    public long size() {
        return size;
    }

    /** Gives the reserved memory back; call once the message is stored or refused. Idempotent. */
    public void release() {
        budget.release(reserved);
        reserved = 0;
    }
}
