package dev.relay.ingress.smtp.protocol;

import java.util.Arrays;

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
    private final MemoryAccount budget;
    private final byte[] one = new byte[1];
    private byte[] kept = new byte[16 * 1024];
    private int count;
    private byte[] copy;
    private long size;
    private long reserved;
    private int lineLength;
    private boolean afterCr;
    private boolean bareLineEnding;
    private boolean tooBig;
    private boolean lineTooLong;
    private boolean noMemory;
    private boolean released;

    /**
     * @param maxSize       largest message, in bytes, including {@code prefix}
     * @param maxLineLength longest text line in octets including its CRLF (RFC 5321 §4.5.3.1.6: at least 1000)
     * @param prefix        our Received: header, written first
     */
    public MessageBuffer(long maxSize, int maxLineLength, MemoryAccount budget, byte[] prefix) {
        this.maxSize = maxSize;
        this.maxLineLength = maxLineLength;
        this.budget = budget;
        write(prefix, 0, prefix.length);
    }

    /**
     * Judges and keeps {@code bytes[from, to)}: one pass over the bytes for line endings and line length, then
     * one copy (this runs for every byte of every message, so it avoids a call and a lock per byte).
     */
    public void write(byte[] bytes, int from, int to) {
        boolean cr = afterCr;
        int line = lineLength;
        boolean bare = false;
        boolean tooLong = false;
        int longest = maxLineLength - 2; // the limit counts the CRLF
        for (int i = from; i < to; i++) {
            byte b = bytes[i];
            if (b == '\n') {
                bare |= !cr;
                line = 0;
            } else {
                bare |= cr;
                if (b != '\r' && ++line > longest) {
                    tooLong = true;
                }
            }
            cr = b == '\r';
        }
        afterCr = cr;
        lineLength = line;
        bareLineEnding |= bare;
        lineTooLong |= tooLong;
        size += to - from;
        if (size > maxSize) {
            tooBig = true;
        }
        if (!failed()) {
            keep(bytes, from, to - from);
        }
    }

    public void write(byte b) {
        one[0] = b;
        write(one, 0, 1);
    }

    /** Reserves memory, grows the array and copies; once the budget is exhausted, keeps nothing more. */
    private void keep(byte[] bytes, int from, int length) {
        if (released) {
            return; // given back already: nothing more may be reserved through this buffer
        }
        while (count + length > reserved) {
            if (!budget.tryReserve(RESERVE_STEP)) {
                noMemory = true; // judged: stop keeping bytes, keep counting
                return;
            }
            reserved += RESERVE_STEP;
        }
        if (count + length > kept.length) {
            kept = Arrays.copyOf(kept, (int) Math.max(kept.length * 2L, (long) count + length));
        }
        System.arraycopy(bytes, from, kept, count, length);
        count += length;
        copy = null;
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

    /** The kept bytes (one copy, made once: the checks and the publisher both ask). */
    public byte[] bytes() {
        if (copy == null) {
            copy = Arrays.copyOf(kept, count);
        }
        return copy;
    }

    public long size() {
        return size;
    }

    /**
     * Gives the reserved memory back; call once the message is stored or refused. Idempotent, and final: bytes
     * written afterwards are counted but never kept, so a late write cannot reserve memory nobody releases.
     */
    public void release() {
        released = true;
        budget.release(reserved);
        reserved = 0;
    }

    /** Bytes of the shared budget this buffer holds now (0 once released). */
    public long reserved() {
        return reserved;
    }
}
