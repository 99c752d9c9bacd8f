package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CredentialCacheTest {

    private static final Identity DEMO = new Identity("demo", "sub-1", "demo@example.test", List.of("smtp-relay"),
            List.of(), List.of());

    private final MutableClock clock = MutableClock.now();
    private final CredentialCache cache = new CredentialCache(Duration.ofSeconds(30), clock);

    @Test
    void shouldAnswerWithinTheTtl() {
        cache.store("demo", "demo-password", DEMO);
        clock.advance(Duration.ofSeconds(29));
        assertThat(cache.lookup("demo", "demo-password")).contains(DEMO);
    }

    @Test
    void shouldMissAfterTheTtl() {
        cache.store("demo", "demo-password", DEMO);
        clock.advance(Duration.ofSeconds(30));
        assertThat(cache.lookup("demo", "demo-password")).isEmpty();
    }

    @Test
    void shouldMissForADifferentPassword() {
        cache.store("demo", "demo-password", DEMO);
        assertThat(cache.lookup("demo", "demo-passwort")).isEmpty();
        assertThat(cache.lookup("demo", "")).isEmpty();
    }

    @Test
    void shouldMissForADifferentUsername() {
        cache.store("demo", "demo-password", DEMO);
        assertThat(cache.lookup("demo2", "demo-password")).isEmpty();
    }

    @Test
    void shouldNotConfuseWhereUsernameEndsAndPasswordStarts() {
        cache.store("ab", "c", DEMO);
        assertThat(cache.lookup("a", "bc")).isEmpty();
        assertThat(cache.lookup("abc", "")).isEmpty();
    }

    @Test
    void shouldNotCacheAUsernameContainingNul() {
        cache.store("a\0b", "c", DEMO);
        assertThat(cache.lookup("a\0b", "c")).isEmpty();
    }

    @Test
    void shouldClampATtlAboveSixtySeconds() {
        CredentialCache longTtl = new CredentialCache(Duration.ofMinutes(10), clock);
        assertThat(longTtl.ttl()).isEqualTo(Duration.ofSeconds(60));
        longTtl.store("demo", "demo-password", DEMO);
        clock.advance(Duration.ofSeconds(59));
        assertThat(longTtl.lookup("demo", "demo-password")).contains(DEMO);
        clock.advance(Duration.ofSeconds(1));
        assertThat(longTtl.lookup("demo", "demo-password")).isEmpty();
    }

    @Test
    void shouldCacheNothingWithAZeroTtl() {
        CredentialCache off = new CredentialCache(Duration.ZERO, clock);
        off.store("demo", "demo-password", DEMO);
        assertThat(off.lookup("demo", "demo-password")).isEmpty();
    }

    @Test
    void shouldHoldAtMostTheMaximumNumberOfEntriesEvictingTheOldest() {
        for (int i = 0; i <= CredentialCache.MAX_ENTRIES; i++) {
            cache.store("user-" + i, "pw", DEMO);
        }
        assertThat(cache.lookup("user-0", "pw")).isEmpty();
        assertThat(cache.lookup("user-1", "pw")).contains(DEMO);
        assertThat(cache.lookup("user-" + CredentialCache.MAX_ENTRIES, "pw")).contains(DEMO);
    }
}
