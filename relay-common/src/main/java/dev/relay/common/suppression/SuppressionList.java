package dev.relay.common.suppression;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The suppression entries one instance knows, bounded: at most {@code maxEntries}; when a new address would go
 * beyond, the entry that expires first (oldest {@code until}) is evicted and counted ({@link #evicted()}), so a
 * flood of bounces costs old entries, never memory. Reads ({@link #active}) take no lock and are cheap enough for
 * an event loop; writes are serialised.
 *
 * <p>Memory (compact Latin-1 strings): an entry holds the address (up to 254 characters), the reason (up to 512)
 * and two instants, plus a hash-map node and a tree node: about 300 bytes with a typical short reply, at most about
 * 900 bytes with a 512-character reason (twice the string part for non-Latin-1 text).
 */
public final class SuppressionList {

    private static final Comparator<SuppressionEntry> BY_UNTIL = Comparator.comparing(SuppressionEntry::until)
            .thenComparing(SuppressionEntry::address);

    private final int maxEntries;
    private final Map<String, SuppressionEntry> entries = new ConcurrentHashMap<>();
    private final NavigableSet<SuppressionEntry> byUntil = new TreeSet<>(BY_UNTIL);
    private final AtomicLong evicted = new AtomicLong();

    public SuppressionList(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("max entries must be at least 1, was " + maxEntries);
        }
        this.maxEntries = maxEntries;
    }

    /** The entry for this address if there is one that applies at {@code now}. */
    public Optional<SuppressionEntry> active(String address, Instant now) {
        SuppressionEntry e;
        try {
            e = entries.get(SuppressionEntry.key(address));
        } catch (IllegalArgumentException bad) {
            return Optional.empty();
        }
        return e != null && e.activeAt(now) ? Optional.of(e) : Optional.empty();
    }

    /** Adds or replaces the entry of its address, evicting the soonest-expiring one when full. */
    public synchronized void put(SuppressionEntry entry) {
        SuppressionEntry old = entries.put(entry.address(), entry);
        if (old != null) {
            byUntil.remove(old);
        }
        byUntil.add(entry);
        while (entries.size() > maxEntries) {
            SuppressionEntry first = byUntil.pollFirst();
            entries.remove(first.address());
            evicted.incrementAndGet();
        }
    }

    /** Removes the address (a tombstone). @return whether it was there */
    public synchronized boolean remove(String address) {
        SuppressionEntry old = entries.remove(SuppressionEntry.key(address));
        if (old != null) {
            byUntil.remove(old);
        }
        return old != null;
    }

    /**
     * Removes this very entry if it is still the one held for its address (a newer entry for the address stays):
     * the release of an expired entry once its tombstone is acknowledged. @return whether it was removed
     */
    public synchronized boolean removeIfSame(SuppressionEntry entry) {
        if (!entry.equals(entries.get(entry.address()))) {
            return false;
        }
        entries.remove(entry.address());
        byUntil.remove(entry);
        return true;
    }

    /**
     * At most {@code max} entries that expired before {@code now}, soonest-expired first, left in place: the ones
     * a sweep writes tombstones for (bounded work per sweep).
     */
    public synchronized List<SuppressionEntry> expired(Instant now, int max) {
        List<SuppressionEntry> out = new ArrayList<>();
        for (SuppressionEntry e : byUntil) {
            if (out.size() >= max || e.activeAt(now)) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    /** Forgets every entry that expired before {@code now}. @return how many */
    public synchronized int prune(Instant now) {
        int n = 0;
        while (!byUntil.isEmpty() && !byUntil.first().activeAt(now)) {
            entries.remove(byUntil.pollFirst().address());
            n++;
        }
        return n;
    }

    /**
     * One page of the entries that apply at {@code now} and whose address contains {@code filter} (lower-cased;
     * null or empty: all), ordered by address. Reads a snapshot: the page may miss concurrent changes.
     */
    public Page page(String filter, int page, int size, Instant now) {
        String needle = filter == null ? "" : filter.strip().toLowerCase(java.util.Locale.ROOT);
        List<SuppressionEntry> matching = new ArrayList<>();
        for (SuppressionEntry e : entries.values()) {
            if (e.activeAt(now) && e.address().contains(needle)) {
                matching.add(e);
            }
        }
        matching.sort(Comparator.comparing(SuppressionEntry::address));
        long from = (long) page * size;
        List<SuppressionEntry> items = from >= matching.size() ? List.of()
                : List.copyOf(matching.subList((int) from, (int) Math.min(matching.size(), from + size)));
        return new Page(items, page, size, matching.size());
    }

    /** @param total entries matching the filter */
    public record Page(List<SuppressionEntry> items, int page, int size, long total) {
    }

    /** Entries held (expired ones not yet pruned included). */
    public int size() {
        return entries.size();
    }

    public int maxEntries() {
        return maxEntries;
    }

    /** Entries evicted because the list was full, since start. */
    public long evicted() {
        return evicted.get();
    }
}
