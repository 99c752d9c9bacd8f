package dev.relay.ingress.auth;

import dev.relay.ingress.config.IngressConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Counts failed AUTH attempts in a sliding window ({@code relay.ingress.auth.failure-window}) per client address and
 * per username, and refuses further attempts once either reaches its limit ({@code max-failures-per-client},
 * {@code max-failures-per-user}). Refusing before Keycloak is asked keeps password guessing slow and keeps a guesser
 * from tripping Keycloak's own brute-force lockout of the victim's account (the per-user limit sits below it).
 *
 * <p>Memory is bounded: each dimension tracks at most {@link #MAX_KEYS} keys and evicts the least recently used
 * one, and each key keeps at most <em>limit</em> timestamps. An attacker spraying that many distinct usernames can
 * thus wash out a per-user count; the per-client count still holds them. Thread-safe.
 */
@ApplicationScoped
public class AuthThrottle {

    static final int MAX_KEYS = 100_000;

    private final Window clients;
    private final Window users;

    @Inject
    public AuthThrottle(IngressConfig config) {
        this(config.auth().maxFailuresPerClient(), config.auth().maxFailuresPerUser(), config.auth().failureWindow(),
                Clock.systemUTC(), MAX_KEYS);
    }

    AuthThrottle(int maxPerClient, int maxPerUser, Duration window, Clock clock, int maxKeys) {
        this.clients = new Window(maxPerClient, window, clock, maxKeys);
        this.users = new Window(maxPerUser, window, clock, maxKeys);
    }

    /** Whether another attempt may be checked; a blank username (a token, before it is verified) skips the user count. */
    public boolean allowed(String clientAddress, String username) {
        return clients.below(clientKey(clientAddress)) && (isBlank(username) || users.below(userKey(username)));
    }

    public void failed(String clientAddress, String username) {
        clients.add(clientKey(clientAddress));
        if (!isBlank(username)) {
            users.add(userKey(username));
        }
    }

    /** Clears the username's failures (the owner got in); the client address keeps its count. */
    public void succeeded(String clientAddress, String username) {
        if (!isBlank(username)) {
            users.clear(userKey(username));
        }
    }

    private static String clientKey(String clientAddress) {
        return clientAddress == null ? "" : clientAddress;
    }

    private static String userKey(String username) {
        return username.toLowerCase(Locale.ROOT);
    }

    private static boolean isBlank(String username) {
        return username == null || username.isEmpty();
    }

    /** Failure timestamps per key, at most {@code limit} each, in a least-recently-used map of bounded size. */
    private static final class Window {
        private final int limit;
        private final long windowMillis;
        private final Clock clock;
        private final Map<String, Failures> failures;

        Window(int limit, Duration window, Clock clock, int maxKeys) {
            this.limit = Math.max(1, limit);
            this.windowMillis = window.toMillis();
            this.clock = clock;
            this.failures = new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Failures> eldest) {
                    return size() > maxKeys;
                }
            };
        }

        synchronized boolean below(String key) {
            Failures f = failures.get(key);
            if (f == null) {
                return true;
            }
            int recent = f.countSince(clock.millis() - windowMillis);
            if (recent == 0) {
                failures.remove(key);
            }
            return recent < limit;
        }

        synchronized void add(String key) {
            failures.computeIfAbsent(key, k -> new Failures(limit)).add(clock.millis());
        }

        synchronized void clear(String key) {
            failures.remove(key);
        }
    }

    /** A ring of the last {@code limit} failure times: enough to tell whether {@code limit} fell in the window. */
    private static final class Failures {
        private final long[] times;
        private int next;
        private int size;

        Failures(int limit) {
            this.times = new long[limit];
        }

        void add(long now) {
            times[next] = now;
            next = (next + 1) % times.length;
            size = Math.min(size + 1, times.length);
        }

        int countSince(long since) {
            int count = 0;
            for (int i = 0; i < size; i++) {
                if (times[i] > since) {
                    count++;
                }
            }
            return count;
        }
    }
}
