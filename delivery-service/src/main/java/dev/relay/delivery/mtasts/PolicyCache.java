package dev.relay.delivery.mtasts;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The MTA-STS policies this instance fetched, per policy domain, with the {@code id} of the TXT record they were
 * fetched for (RFC 8461 §5.1): a policy is fetched again only when the record's id changes or its
 * {@code max_age} has passed, and stays in force while a new fetch fails. At most {@code maxEntries} domains, the
 * least recently used dropped beyond (a dropped domain's policy is fetched again on its next delivery). In memory,
 * per instance (ADR 0013): a restarted or new instance starts empty and fetches again.
 */
public final class PolicyCache {

    /** A cached policy: the TXT id it belongs to, and until when (monotonic millis) it may be used. */
    public record Entry(String id, StsPolicy policy, long expiresAtMillis) {
    }

    private final int maxEntries;
    private final LongSupplier millis;
    private final LinkedHashMap<String, Entry> entries;

    public PolicyCache(int maxEntries, LongSupplier millis) {
        this.maxEntries = Math.max(0, maxEntries);
        this.millis = millis;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > PolicyCache.this.maxEntries;
            }
        };
    }

    /** The unexpired policy of {@code domain}, or null (an expired one is dropped here). */
    public synchronized Entry get(String domain) {
        Entry entry = entries.get(domain);
        if (entry != null && millis.getAsLong() - entry.expiresAtMillis() >= 0) {
            entries.remove(domain);
            return null;
        }
        return entry;
    }

    /** Keeps {@code policy} of {@code domain}, fetched now for TXT id {@code id}, for its max_age. */
    public synchronized Entry put(String domain, String id, StsPolicy policy) {
        Entry entry = new Entry(id, policy, millis.getAsLong() + policy.maxAgeSeconds() * 1000L);
        if (maxEntries > 0 && policy.maxAgeSeconds() > 0) {
            entries.put(domain, entry);
        }
        return entry;
    }

    public synchronized int size() {
        return entries.size();
    }
}
