package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;
import dev.relay.ingress.config.IngressConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Remembers successful password checks for {@code relay.ingress.auth.cache-ttl} (at most {@link #MAX_TTL}), so that
 * clients that open a session per message do not cost a Keycloak password grant each. The key is an HMAC-SHA256 of
 * username, NUL, password under a random key that lives only in this process: neither the password nor an
 * offline-attackable plain hash of it is ever held. A changed password or disabled account is thus honoured after
 * the TTL at the latest. At most {@link #MAX_ENTRIES} entries, the oldest evicted first. Thread-safe.
 */
@ApplicationScoped
public class CredentialCache {

    static final Duration MAX_TTL = Duration.ofSeconds(60);
    static final int MAX_ENTRIES = 10_000;

    private final byte[] hmacKey = new byte[32];
    private final long ttlMillis;
    private final Clock clock;
    private final Map<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    @Inject
    public CredentialCache(IngressConfig config) {
        this(config.auth().cacheTtl(), Clock.systemUTC());
    }

    CredentialCache(Duration ttl, Clock clock) {
        new SecureRandom().nextBytes(hmacKey);
        this.ttlMillis = Math.max(0, Math.min(ttl.toMillis(), MAX_TTL.toMillis()));
        this.clock = clock;
    }

    /** The effective TTL, after clamping. */
    Duration ttl() {
        return Duration.ofMillis(ttlMillis);
    }

    public Optional<Identity> lookup(String username, String password) {
        String key = key(username, password);
        if (key == null) {
            return Optional.empty();
        }
        synchronized (entries) {
            Entry entry = entries.get(key);
            if (entry == null) {
                return Optional.empty();
            }
            if (clock.millis() >= entry.expiresAt()) {
                entries.remove(key);
                return Optional.empty();
            }
            return Optional.of(entry.identity());
        }
    }

    public void store(String username, String password, Identity identity) {
        String key = key(username, password);
        if (key == null || ttlMillis == 0 || identity == null) {
            return;
        }
        synchronized (entries) {
            entries.remove(key); // re-insert, so that eviction order is storage order
            entries.put(key, new Entry(identity, clock.millis() + ttlMillis));
        }
    }

    /** Null (not cacheable) when the username holds a NUL, which would make "username NUL password" ambiguous. */
    String key(String username, String password) {
        if (username == null || password == null || username.indexOf('\0') >= 0) {
            return null;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256"); // Mac instances are not thread-safe; one per call is cheap
            mac.init(new SecretKeySpec(hmacKey, "HmacSHA256"));
            mac.update(username.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return HexFormat.of().formatHex(mac.doFinal(password.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private record Entry(Identity identity, long expiresAt) {
    }
}
