package dev.relay.ingress.smtp.protocol;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A ceiling on message bytes held in memory across all sessions of this process, so that hundreds of concurrent
 * large messages cannot exhaust the heap: a session that cannot reserve more gets 452 4.3.1 instead.
 */
public final class MemoryBudget {

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    public MemoryBudget(long limit) {
        this.limit = limit;
    }

    public static MemoryBudget unlimited() {
        return new MemoryBudget(Long.MAX_VALUE);
    }

    public boolean tryReserve(long bytes) {
        while (true) {
            long current = used.get();
            if (current + bytes > limit) {
                return false;
            }
            if (used.compareAndSet(current, current + bytes)) {
                return true;
            }
        }
    }

    public void release(long bytes) {
        used.addAndGet(-bytes);
    }

    /** Whether nothing more can be reserved right now (checked before 354 / the first BDAT chunk). */
    public boolean exhausted() {
        return used.get() >= limit;
    }

    public long used() {
        return used.get();
    }
}
