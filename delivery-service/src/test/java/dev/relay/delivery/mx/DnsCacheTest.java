package dev.relay.delivery.mx;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The cache's bookkeeping alone: its bound, name keys and lifetimes (the DNS side is in MxResolverCacheTest). */
class DnsCacheTest {

    private final AtomicLong now = new AtomicLong();

    @Test
    void shouldKeepAtMostMaxEntriesDroppingTheLeastRecentlyUsed() {
        DnsCache cache = new DnsCache(Duration.ofHours(1), Duration.ofMinutes(5), 3, now::get);
        cache.put("a", "one.example", DnsAnswer.found(List.of("192.0.2.1"), 600));
        cache.put("a", "two.example", DnsAnswer.found(List.of("192.0.2.2"), 600));
        cache.put("a", "three.example", DnsAnswer.found(List.of("192.0.2.3"), 600));
        cache.get("a", "one.example"); // used: two.example is now the least recently used

        for (int i = 0; i < 10_000; i++) { // a flood of distinct names
            cache.put("mx", "flood-" + i + ".example", DnsAnswer.nxDomain(DnsAnswer.UNKNOWN_TTL));
        }

        assertThat(cache.size()).isEqualTo(3);
        assertThat(cache.<String>get("mx", "flood-9999.example")).isNotNull();
        assertThat(cache.<String>get("a", "one.example")).isNull();
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedFirst() {
        DnsCache cache = new DnsCache(Duration.ofHours(1), Duration.ofMinutes(5), 2, now::get);
        cache.put("a", "one.example", DnsAnswer.found(List.of("192.0.2.1"), 600));
        cache.put("a", "two.example", DnsAnswer.found(List.of("192.0.2.2"), 600));
        cache.get("a", "one.example");
        cache.put("a", "three.example", DnsAnswer.found(List.of("192.0.2.3"), 600));

        assertThat(cache.<String>get("a", "one.example")).isNotNull();
        assertThat(cache.<String>get("a", "two.example")).isNull();
        assertThat(cache.<String>get("a", "three.example")).isNotNull();
    }

    @Test
    void shouldKeyByTypeAndCaseInsensitiveNameWithoutTheRootDot() {
        DnsCache cache = new DnsCache(Duration.ofHours(1), Duration.ofMinutes(5), 10, now::get);
        cache.put("a", "Mail.Example.ORG.", DnsAnswer.found(List.of("192.0.2.1"), 600));

        assertThat(cache.<String>get("a", "mail.example.org").records()).containsExactly("192.0.2.1");
        assertThat(cache.<String>get("aaaa", "mail.example.org")).isNull();
    }

    @Test
    void shouldLiveForTheTtlCappedByTheMaximum() {
        DnsCache cache = new DnsCache(Duration.ofMinutes(10), Duration.ofMinutes(5), 10, now::get);

        assertThat(cache.lifetimeMillis(DnsAnswer.found(List.of("x"), 30))).isEqualTo(30_000);
        assertThat(cache.lifetimeMillis(DnsAnswer.found(List.of("x"), 0xFFFF_FFFFL))).isEqualTo(600_000);
        assertThat(cache.lifetimeMillis(DnsAnswer.found(List.of("x"), 0))).isZero();
        assertThat(cache.lifetimeMillis(DnsAnswer.noData(DnsAnswer.UNKNOWN_TTL))).isEqualTo(300_000);
        assertThat(cache.lifetimeMillis(DnsAnswer.nxDomain(120))).isEqualTo(120_000);
        assertThat(cache.lifetimeMillis(DnsAnswer.nxDomain(86_400))).isEqualTo(600_000);
    }

    @Test
    void shouldDropAnAnswerWhenItsTtlIsOver() {
        DnsCache cache = new DnsCache(Duration.ofHours(1), Duration.ofMinutes(5), 10, now::get);
        cache.put("mx", "example.org", DnsAnswer.found(List.of(Mx.of(10, "mx.example.org")), 60));

        now.addAndGet(59_999);
        assertThat(cache.<Mx>get("mx", "example.org")).isNotNull();
        now.addAndGet(1);
        assertThat(cache.<Mx>get("mx", "example.org")).isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void shouldKeepNothingWhenDisabled() {
        DnsCache off = DnsCache.disabled();
        off.put("a", "one.example", DnsAnswer.found(List.of("192.0.2.1"), 600));

        assertThat(off.enabled()).isFalse();
        assertThat(off.<String>get("a", "one.example")).isNull();
        assertThat(off.size()).isZero();
    }
}
