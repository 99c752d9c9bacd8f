package dev.relay.ingress.auth;

import dev.relay.common.net.ClientKey;
import dev.relay.common.rules.Count;
import dev.relay.common.rules.Per;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Usage;
import dev.relay.common.rules.Window;
import dev.relay.common.usage.UsageCounter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts failed AUTH attempts cluster-wide and refuses further attempts before Keycloak is asked, so that
 * guessing stays slow and a guesser cannot make Keycloak lock a real user out.
 *
 * <p><b>Three counts</b>, in the compacted usage topic the rate limits use ({@link UsageCounter} writes this
 * instance's counts, the followed topic gives every other instance's), in fixed UTC windows:
 * <ul>
 * <li>per client prefix (IPv4 address, IPv6 /64), per hour ({@code max-failures-per-client}): one source
 * guessing many users;</li>
 * <li>per (user, client prefix), per hour ({@code max-failures-per-user-client}): one source guessing one user;</li>
 * <li>per user from anywhere, per day ({@code max-failures-per-user}): the global ceiling, kept so that twice it
 * (a burst straddling a day boundary) stays below the realm's brute-force {@code failureFactor} (30 with
 * {@code maxDeltaTimeSeconds} 12 h in the shipped realm): an attacker never reaches Keycloak's lockout through
 * this relay within Keycloak's failure memory.</li>
 * </ul>
 * A user whose global ceiling was reached by others' guesses is <em>not</em> locked out: {@link #check} answers
 * {@link Verdict#CACHED_ONLY}, and a password the {@link CredentialCache} recognises (it was verified by Keycloak
 * within the cache TTL) is still accepted; only new guesses are refused without asking Keycloak. Whoever reached
 * the per-client or per-(user, client) limit is refused outright.
 *
 * <p><b>No burst gets through</b>: {@link #reserve} checks and counts atomically, and an attempt counts as a
 * failure from the moment it is reserved until Keycloak answered; a success or an unavailable Keycloak takes the
 * provisional count back ({@link Attempt#succeeded}, {@link Attempt#cancelled}). So 50 parallel guesses against a
 * limit of 5 send 5 to Keycloak. Across instances, what other instances counted arrives with the topic's
 * propagation delay (typically well under a second).
 *
 * <p><b>Keys</b>: usernames are lowercased and {@code user@domain} counts as {@code user} for the configured
 * {@code username-domains} (the realm logs in by email too). The topic holds a SHA-256 of each key, never a
 * username or address. Memory is bounded: beyond {@link #MAX_SLOTS} live slots in this instance, new per-user
 * slots are not created (a spray of distinct usernames is still held by the per-client count).
 */
public class AuthThrottle implements AutoCloseable {

    static final int MAX_SLOTS = 100_000;
    static final Window CLIENT_WINDOW = Window.HOUR;
    static final Window USER_WINDOW = Window.DAY;
    private static final Count ONE = new Count(1, 0);
    private static final Count MINUS_ONE = new Count(-1, 0);

    /** The limits: failures per client prefix and per (user, client prefix) per hour, per user per day. */
    public record Limits(int perClient, int perUserClient, int perUser) {
        public Limits {
            perClient = Math.max(1, perClient);
            perUserClient = Math.max(1, perUserClient);
            perUser = Math.max(1, perUser);
        }
    }

    /** What may happen to an attempt, before it is reserved. */
    public enum Verdict {
        /** May be checked with Keycloak (after {@link #reserve}). */
        ALLOWED,
        /** The user's global ceiling is reached: only a cached (already verified) password is accepted. */
        CACHED_ONLY,
        /** This client (or this client for this user) reached its limit: refused, even a cached password. */
        THROTTLED
    }

    private final Limits limits;
    private final Clock clock;
    private final UsageCounter counter;
    private final Usage others;
    private final Set<String> usernameDomains;
    private final Set<Slot> dirty = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final ExecutorService publisher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "relay-auth-throttle-publisher");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param counter         this instance's counts, published to the usage topic
     * @param others          every other instance's counts, followed from the same topic (records of
     *                        {@code counter}'s instance skipped)
     * @param usernameDomains domains whose {@code user@domain} login names count as {@code user}
     */
    public AuthThrottle(Limits limits, Clock clock, UsageCounter counter, Usage others, List<String> usernameDomains) {
        this.limits = limits;
        this.clock = clock;
        this.counter = counter;
        this.others = others;
        this.usernameDomains = Set.copyOf(usernameDomains.stream().map(d -> d.toLowerCase(Locale.ROOT)).toList());
    }

    /** Whether an attempt may go on; a null or empty username (a token, before it is verified) has no user counts. */
    public synchronized Verdict check(String clientAddress, String username) {
        Keys keys = keys(clientAddress, username);
        if (used(keys.client()) >= limits.perClient()
                || (keys.userClient() != null && used(keys.userClient()) >= limits.perUserClient())) {
            return Verdict.THROTTLED;
        }
        if (keys.user() != null && used(keys.user()) >= limits.perUser()) {
            return Verdict.CACHED_ONLY;
        }
        return Verdict.ALLOWED;
    }

    /**
     * Checks and counts one attempt as a failure, atomically: null when the attempt may not go to Keycloak (then
     * nothing was counted). The returned attempt must be resolved exactly once.
     */
    public synchronized Attempt reserve(String clientAddress, String username) {
        if (check(clientAddress, username) != Verdict.ALLOWED) {
            return null;
        }
        List<Slot> slots = slots(keys(clientAddress, username));
        add(slots, ONE);
        return new Attempt(slots);
    }

    /**
     * Counts a failure without asking Keycloak (a password that is not in the cache while the user is at its
     * global ceiling): against the client and the (user, client) counts, so that such guessing stops there too.
     */
    public synchronized void refusedUncached(String clientAddress, String username) {
        Keys keys = keys(clientAddress, username);
        List<Slot> slots = new ArrayList<>(2);
        slots.add(keys.client());
        if (keys.userClient() != null) {
            slots.add(keys.userClient());
        }
        add(slots, ONE);
    }

    /** The failures (and attempts in flight) counted cluster-wide for this client and user; for tests. */
    synchronized long usedBy(String clientAddress, String username) {
        Keys keys = keys(clientAddress, username);
        return used(keys.user() != null ? keys.user() : keys.client());
    }

    /** An attempt counted as a failure until it is resolved. */
    public final class Attempt {
        private final List<Slot> slots;
        private final AtomicBoolean resolved = new AtomicBoolean();

        private Attempt(List<Slot> slots) {
            this.slots = slots;
        }

        /** Keycloak refused the credentials: the provisional count stays. */
        public void failed() {
            resolved.set(true);
        }

        /** Keycloak accepted them: the provisional count is taken back. */
        public void succeeded() {
            takeBack();
        }

        /** Keycloak could not be asked: the client did nothing wrong, the count is taken back. */
        public void cancelled() {
            takeBack();
        }

        private void takeBack() {
            if (resolved.compareAndSet(false, true)) {
                synchronized (AuthThrottle.this) {
                    add(slots, MINUS_ONE);
                }
            }
        }
    }

    private long used(Slot slot) {
        return counter.used(slot).messages() + others.used(slot).messages();
    }

    private void add(List<Slot> slots, Count count) {
        counter.add(slots, count);
        dirty.addAll(slots);
        if (flushScheduled.compareAndSet(false, true)) {
            // the producer may block on metadata: never on the caller's (event-loop) thread
            publisher.execute(this::flush);
        }
    }

    private void flush() {
        flushScheduled.set(false);
        List<Slot> batch = new ArrayList<>(dirty);
        dirty.removeAll(batch);
        if (!batch.isEmpty()) {
            counter.publish(batch);
        }
    }

    private record Keys(Slot client, Slot userClient, Slot user) {
    }

    private Keys keys(String clientAddress, String username) {
        Instant now = clock.instant();
        String prefix = clientPrefix(clientAddress);
        Slot client = slot(Per.AUTH_CLIENT, prefix, CLIENT_WINDOW, now);
        String principal = principal(username);
        if (principal == null) {
            return new Keys(client, null, null);
        }
        Slot userClient = slot(Per.AUTH_USER_CLIENT, principal + "\0" + prefix, CLIENT_WINDOW, now);
        Slot user = slot(Per.AUTH_USER, principal, USER_WINDOW, now);
        if (counter.size() >= MAX_SLOTS && counter.used(user).equals(Count.ZERO)) {
            return new Keys(client, null, null); // bounded: a spray of usernames is held by the client count
        }
        return new Keys(client, userClient, user);
    }

    private static List<Slot> slots(Keys keys) {
        List<Slot> slots = new ArrayList<>(3);
        slots.add(keys.client());
        if (keys.userClient() != null) {
            slots.add(keys.userClient());
            slots.add(keys.user());
        }
        return slots;
    }

    private static Slot slot(Per per, String key, Window window, Instant now) {
        return new Slot(per, digest(per.label() + "\0" + key), window, window.bucket(now));
    }

    /** The normalised username: lowercased, {@code @domain} dropped for the configured domains; null when none. */
    String principal(String username) {
        if (username == null || username.isBlank()) {
            return null;
        }
        String name = username.trim().toLowerCase(Locale.ROOT);
        // a username, not a mailbox path: any text a client sends as AUTH identity, so not AddressParser's business
        int at = name.lastIndexOf('@');
        if (at > 0 && usernameDomains.contains(name.substring(at + 1))) {
            name = name.substring(0, at);
        }
        return name;
    }

    /** IPv4: the address; IPv6: its /64 (one subscriber usually holds a whole /64). */
    /** The client's key: its IPv4 address or its IPv6 /64 ({@link ClientKey}), as the rate limits count it. */
    static String clientPrefix(String clientAddress) {
        return clientAddress == null ? "" : ClientKey.of(clientAddress);
    }

    private static String digest(String key) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    @Override
    public void close() {
        publisher.shutdown();
        counter.close();
    }
}
