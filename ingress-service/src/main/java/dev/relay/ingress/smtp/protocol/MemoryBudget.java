package dev.relay.ingress.smtp.protocol;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A ceiling on message bytes held in memory across all sessions of this process, so that hundreds of concurrent
 * large messages cannot exhaust the heap: a session that cannot reserve more gets 452 4.3.1 instead.
 *
 * <p>Each client (its address, or its IPv6 /64) may hold at most {@code perClientLimit} of it, so that one source
 * opening many slow transactions cannot take the whole budget from everyone else while the data-rate checks have
 * not closed it yet. The per-client map holds an entry only while that client holds bytes: it is bounded by the
 * connections that hold messages.
 */
public final class MemoryBudget implements MemoryAccount {

    private final long limit;
    private final long perClientLimit;
    private final AtomicLong used = new AtomicLong();
    private final ConcurrentHashMap<String, AtomicLong> byClient = new ConcurrentHashMap<>();

    public MemoryBudget(long limit) {
        this(limit, limit);
    }

    public MemoryBudget(long limit, long perClientLimit) {
        this.limit = limit;
        this.perClientLimit = Math.min(limit, perClientLimit);
    }

    public static MemoryBudget unlimited() {
        return new MemoryBudget(Long.MAX_VALUE);
    }

    /** The account of one client (a key such as {@code ClientKey.of(address)}): its share and the whole budget. */
    public MemoryAccount forClient(String clientKey) {
        return perClientLimit >= limit || clientKey == null ? this : new ClientShare(clientKey);
    }

    @Override
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

    @Override
    public void release(long bytes) {
        used.addAndGet(-bytes);
    }

    @Override
    public boolean exhausted() {
        return used.get() >= limit;
    }

    public long used() {
        return used.get();
    }

    /** Bytes the client holds now (0 when it holds none). */
    public long usedBy(String clientKey) {
        AtomicLong held = byClient.get(clientKey);
        return held == null ? 0 : held.get();
    }

    /** Clients holding bytes now. */
    public int clients() {
        return byClient.size();
    }

    private final class ClientShare implements MemoryAccount {

        private final String key;

        private ClientShare(String key) {
            this.key = key;
        }

        @Override
        public boolean tryReserve(long bytes) {
            boolean[] reserved = {false};
            // compute runs atomically per key: the share check and both reservations cannot interleave
            byClient.compute(key, (k, held) -> {
                long current = held == null ? 0 : held.get();
                if (current + bytes > perClientLimit || !MemoryBudget.this.tryReserve(bytes)) {
                    return held;
                }
                reserved[0] = true;
                AtomicLong now = held == null ? new AtomicLong() : held;
                now.addAndGet(bytes);
                return now;
            });
            return reserved[0];
        }

        @Override
        public void release(long bytes) {
            byClient.computeIfPresent(key, (k, held) -> held.addAndGet(-bytes) <= 0 ? null : held);
            MemoryBudget.this.release(bytes);
        }

        @Override
        public boolean exhausted() {
            return MemoryBudget.this.exhausted() || usedBy(key) >= perClientLimit;
        }
    }
}
