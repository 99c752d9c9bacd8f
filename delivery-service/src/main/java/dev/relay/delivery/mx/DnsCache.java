package dev.relay.delivery.mx;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The answers {@link MxResolver} got, kept as long as their TTL allows, so that a stream of mail to one domain does
 * not ask the resolvers once per message. Positive answers live for the smallest TTL of their records, negative
 * ones (NXDOMAIN, NODATA) for the SOA's negative TTL (RFC 2308) or, without an SOA, for {@code negativeTtl}; both
 * at most {@code maxTtl}. A TTL of 0 is not cached. Failures (SERVFAIL, timeouts) never get here.
 * <p>
 * At most {@code maxEntries} answers are kept: beyond, the least recently used one goes, so that mail to a flood
 * of distinct domains cannot fill the heap. Expired answers are dropped when next asked for (or evicted).
 * Thread-safe; the clock is a monotonic millisecond counter that tests can move.
 */
public final class DnsCache {

    /** Keeps nothing; every lookup asks the servers. */
    public static DnsCache disabled() {
        return new DnsCache(Duration.ZERO, Duration.ZERO, 0, DnsCache::monotonicMillis);
    }

    private record Key(String type, String name) {
    }

    private record Entry(DnsAnswer<?> answer, long expiresAt) {
    }

    private final long maxTtlMillis;
    private final long negativeTtlMillis;
    private final int maxEntries;
    private final LongSupplier millis;
    private final LinkedHashMap<Key, Entry> entries;

    /**
     * @param maxTtl      the longest any answer is kept, whatever its TTL; zero disables the cache
     * @param negativeTtl how long a negative answer without an SOA is kept; zero: not at all
     * @param maxEntries  answers kept at most; zero disables the cache
     * @param millis      a monotonic clock in milliseconds ({@link #monotonicMillis()} outside tests)
     */
    public DnsCache(Duration maxTtl, Duration negativeTtl, int maxEntries, LongSupplier millis) {
        this.maxTtlMillis = Math.max(0, maxTtl.toMillis());
        this.negativeTtlMillis = Math.max(0, negativeTtl.toMillis());
        this.maxEntries = Math.max(0, maxEntries);
        this.millis = millis;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) { // access order: the eldest is the least recently used
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
                return size() > DnsCache.this.maxEntries;
            }
        };
    }

    public static long monotonicMillis() {
        return System.nanoTime() / 1_000_000;
    }

    public boolean enabled() {
        return maxTtlMillis > 0 && maxEntries > 0;
    }

    /** Answers kept now, expired ones not yet dropped included. */
    public synchronized int size() {
        return entries.size();
    }

    /** The unexpired answer to {@code type} of {@code name}, or null. */
    @SuppressWarnings("unchecked")
    synchronized <T> DnsAnswer<T> get(String type, String name) {
        if (!enabled()) {
            return null;
        }
        Key key = key(type, name);
        Entry entry = entries.get(key);
        if (entry == null) {
            return null;
        }
        if (millis.getAsLong() - entry.expiresAt() >= 0) {
            entries.remove(key);
            return null;
        }
        return (DnsAnswer<T>) entry.answer();
    }

    /** Keeps {@code answer} for as long as {@link #lifetimeMillis} allows; nothing when that is zero. */
    synchronized void put(String type, String name, DnsAnswer<?> answer) {
        long lifetime = lifetimeMillis(answer);
        if (lifetime > 0) {
            entries.put(key(type, name), new Entry(answer, millis.getAsLong() + lifetime));
        }
    }

    long lifetimeMillis(DnsAnswer<?> answer) {
        if (!enabled()) {
            return 0;
        }
        long ttl = answer.ttlSeconds() == DnsAnswer.UNKNOWN_TTL ? negativeTtlMillis
                : Math.min(answer.ttlSeconds(), maxTtlMillis / 1000 + 1) * 1000;
        return Math.min(ttl, maxTtlMillis);
    }

    private static Key key(String type, String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return new Key(type, n.endsWith(".") ? n.substring(0, n.length() - 1) : n);
    }
}
