package dev.relay.ingress.smtp.server;

import dev.relay.common.net.ClientKey;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open SMTP connections in total and per client, across every listener and event loop, so that one client
 * (or a flood of them) cannot take all the sessions. A client is an IPv4 address or an IPv6 network of the
 * configured prefix ({@link ClientKey}): whoever holds a /64 can pick a fresh address per connection. Thread-safe.
 */
final class ConnectionLimiter {

    private final int maxTotal;
    private final int maxPerClient;
    private final int ipv6Prefix;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<String, AtomicInteger> perClient = new ConcurrentHashMap<>();

    ConnectionLimiter(int maxTotal, int maxPerClient, int ipv6Prefix) {
        this.maxTotal = maxTotal;
        this.maxPerClient = maxPerClient;
        this.ipv6Prefix = ipv6Prefix;
    }

    ConnectionLimiter(int maxTotal, int maxPerClient) {
        this(maxTotal, maxPerClient, ClientKey.DEFAULT_IPV6_PREFIX);
    }

    /** Takes a slot for {@code client}; false (and nothing taken) when a limit is reached. */
    boolean tryAcquire(String client) {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return false;
        }
        boolean[] admitted = {false};
        perClient.compute(ClientKey.of(client, ipv6Prefix), (k, count) -> {
            AtomicInteger c = count == null ? new AtomicInteger() : count;
            if (c.get() < maxPerClient) {
                c.incrementAndGet();
                admitted[0] = true;
            }
            return c.get() == 0 ? null : c;
        });
        if (!admitted[0]) {
            total.decrementAndGet();
        }
        return admitted[0];
    }

    void release(String client) {
        total.decrementAndGet();
        perClient.computeIfPresent(ClientKey.of(client, ipv6Prefix), (k, c) -> c.decrementAndGet() <= 0 ? null : c);
    }

    int open() {
        return total.get();
    }
}
