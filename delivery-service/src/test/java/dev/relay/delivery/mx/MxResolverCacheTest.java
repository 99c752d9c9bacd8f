package dev.relay.delivery.mx;

import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import dev.relay.testkit.DnsResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The DNS cache of {@link MxResolver} against the testkit's real DNS responder: what is asked again and when,
 * counted with {@link DnsResponder#queries}. Time is a test clock moved by hand, never slept.
 */
class MxResolverCacheTest {

    private static final Duration MAX_TTL = Duration.ofHours(1);
    private static final Duration NEGATIVE_TTL = Duration.ofMinutes(5);

    private static Vertx vertx;
    private static DnsResponder dns;
    private static DnsResponder backup;

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<MxResolver> resolvers = new ArrayList<>();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        dns = DnsResponder.start()
                .mx("example.org", 10, "mx1.example.org").mx("example.org", 20, "mx2.example.org")
                .a("mx1.example.org", "192.0.2.1").aaaa("mx1.example.org", "2001:db8::1")
                .a("mx2.example.org", "192.0.2.2")
                .mx("short.example", 10, "mx.short.example").ttl("short.example", 30)
                .a("mx.short.example", "192.0.2.3").ttl("mx.short.example", 120)
                .a("host.short.example", "192.0.2.4").aaaa("host.short.example", "2001:db8::4")
                .ttl("host.short.example", 30)
                .mx("long.example", 10, "mx.long.example").ttl("long.example", 7 * 86_400)
                .a("mx.long.example", "192.0.2.5").aaaa("mx.long.example", "2001:db8::5")
                .ttl("mx.long.example", 7 * 86_400)
                .mx("off.example", 10, "mx.off.example").a("mx.off.example", "192.0.2.8")
                .mx("zero.example", 10, "mx.zero.example").ttl("zero.example", 0)
                .a("mx.zero.example", "192.0.2.6").ttl("mx.zero.example", 0)
                .exists("nodata.example")
                .soa("soa.example", 3600, 120).exists("nodata.soa.example")
                .mx("broken.example", 10, "mx.broken.example").servfail("broken.example")
                .a("mx.broken.example", "192.0.2.7")
                .silent("silent.example")
                .mx("equal.example", 10, "a.equal.example").mx("equal.example", 10, "b.equal.example")
                .mx("equal.example", 10, "c.equal.example")
                .a("a.equal.example", "192.0.2.11").a("b.equal.example", "192.0.2.12")
                .a("c.equal.example", "192.0.2.13");
        backup = DnsResponder.start()
                .mx("broken.example", 10, "mx.broken.example").a("mx.broken.example", "192.0.2.7");
    }

    @AfterAll
    static void stop() throws Exception {
        dns.close();
        backup.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void closeResolvers() throws Exception {
        for (MxResolver resolver : resolvers) {
            resolver.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldNotAskAgainWithinTheTtl() throws Exception {
        MxResolver resolver = cached(MAX_TTL);
        Resolution first = resolve(resolver, "example.org");
        int mxQueries = dns.queries("example.org");
        int hostQueries = dns.queries("mx1.example.org");

        advance(Duration.ofSeconds(59)); // the responder's TTL is 60 s
        Resolution second = resolve(resolver, "example.org");

        assertThat(second).isEqualTo(first).isInstanceOf(Resolution.Targets.class);
        assertThat(((Resolution.Targets) second).targets()).extracting(SmtpTarget::address)
                .containsExactly("192.0.2.1", "2001:db8:0:0:0:0:0:1", "192.0.2.2");
        assertThat(dns.queries("example.org")).isEqualTo(mxQueries).isEqualTo(1);
        assertThat(dns.queries("mx1.example.org")).isEqualTo(hostQueries).isEqualTo(2); // A and AAAA, once each
        assertThat(cacheCount("mx", "hit")).isEqualTo(1);
        assertThat(cacheCount("a", "hit")).isEqualTo(2);
        assertThat(cacheCount("aaaa", "hit")).isEqualTo(2);
        assertThat(cacheCount("mx", "miss")).isEqualTo(1);
        assertThat(lookups("mx", "ok")).isEqualTo(1); // a hit is not a lookup
    }

    @Test
    void shouldAskAgainOnceTheTtlHasPassed() throws Exception {
        MxResolver resolver = cached(MAX_TTL);
        resolve(resolver, "short.example"); // MX TTL 30 s, its host's A 120 s
        advance(Duration.ofSeconds(29));
        resolve(resolver, "short.example");
        assertThat(dns.queries("short.example")).isEqualTo(1);

        advance(Duration.ofSeconds(1));
        resolve(resolver, "short.example");
        assertThat(dns.queries("short.example")).isEqualTo(2);
        assertThat(dns.queries("mx.short.example")).isEqualTo(2); // A and AAAA (NODATA) still cached

        advance(Duration.ofSeconds(90));
        resolve(resolver, "short.example");
        assertThat(dns.queries("short.example")).isEqualTo(3);
        // the A's 120 s are over: asked again; the AAAA's NODATA lives 5 minutes (no SOA), not asked
        assertThat(dns.queries("mx.short.example")).isEqualTo(3);
    }

    @Test
    void shouldCacheAddressesForTheirTtl() throws Exception {
        MxResolver resolver = cached(MAX_TTL);
        List<String> first = addresses(resolver, "host.short.example");
        advance(Duration.ofSeconds(29));
        List<String> second = addresses(resolver, "host.short.example");

        assertThat(second).isEqualTo(first).containsExactly("192.0.2.4", "2001:db8:0:0:0:0:0:4");
        assertThat(dns.queries("host.short.example")).isEqualTo(2);

        advance(Duration.ofSeconds(1));
        addresses(resolver, "host.short.example");
        assertThat(dns.queries("host.short.example")).isEqualTo(4);
    }

    @Test
    void shouldKeepALongTtlOnlyForTheMaximum() throws Exception {
        MxResolver resolver = cached(Duration.ofMinutes(10)); // the records say 7 days
        resolve(resolver, "long.example");
        advance(Duration.ofMinutes(10).minusSeconds(1));
        resolve(resolver, "long.example");
        assertThat(dns.queries("long.example")).isEqualTo(1);
        assertThat(dns.queries("mx.long.example")).isEqualTo(2);

        advance(Duration.ofSeconds(1));
        resolve(resolver, "long.example");
        assertThat(dns.queries("long.example")).isEqualTo(2);
        assertThat(dns.queries("mx.long.example")).isEqualTo(4);
    }

    @Test
    void shouldCacheNxdomainForTheNegativeTtl() throws Exception {
        MxResolver resolver = cached(MAX_TTL);
        assertPermanent(resolve(resolver, "nowhere.example"), "550 5.1.2");
        advance(NEGATIVE_TTL.minusSeconds(1));
        assertPermanent(resolve(resolver, "nowhere.example"), "550 5.1.2");
        assertThat(dns.queries("nowhere.example")).isEqualTo(1);
        assertThat(cacheCount("mx", "hit")).isEqualTo(1);

        advance(Duration.ofSeconds(1));
        assertPermanent(resolve(resolver, "nowhere.example"), "550 5.1.2");
        assertThat(dns.queries("nowhere.example")).isEqualTo(2);
    }

    @Test
    void shouldCacheNodataForTheNegativeTtl() throws Exception {
        MxResolver resolver = cached(MAX_TTL);
        assertPermanent(resolve(resolver, "nodata.example"), "550 5.1.2"); // no MX, no address
        int asked = dns.queries("nodata.example"); // MX, A, AAAA
        advance(NEGATIVE_TTL.minusSeconds(1));
        resolve(resolver, "nodata.example");
        assertThat(dns.queries("nodata.example")).isEqualTo(asked).isEqualTo(3);

        advance(Duration.ofSeconds(1));
        resolve(resolver, "nodata.example");
        assertThat(dns.queries("nodata.example")).isEqualTo(6);
    }

    @Test
    void shouldTakeTheNegativeTtlFromTheSoaWhenThereIsOne() throws Exception {
        MxResolver resolver = cached(MAX_TTL); // SOA MINIMUM 120 s, shorter than the 5 minutes without SOA
        resolve(resolver, "gone.soa.example");
        addresses(resolver, "nodata.soa.example");
        advance(Duration.ofSeconds(119));
        resolve(resolver, "gone.soa.example");
        addresses(resolver, "nodata.soa.example");
        assertThat(dns.queries("gone.soa.example")).isEqualTo(1);
        assertThat(dns.queries("nodata.soa.example")).isEqualTo(2);

        advance(Duration.ofSeconds(1));
        resolve(resolver, "gone.soa.example");
        addresses(resolver, "nodata.soa.example");
        assertThat(dns.queries("gone.soa.example")).isEqualTo(2);
        assertThat(dns.queries("nodata.soa.example")).isEqualTo(4);
    }

    @Test
    void shouldNotCacheServfailAndStillAskTheNextServer() throws Exception {
        MxResolver alone = cached(MAX_TTL);
        assertThat(resolve(alone, "broken.example")).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(u.reason().text()).startsWith("451 4.4.3").contains("SERVFAIL");
        });
        resolve(alone, "broken.example");
        assertThat(dns.queries("broken.example")).isEqualTo(2);

        MxResolver withBackup = cached(MAX_TTL, dns, backup);
        Resolution first = resolve(withBackup, "broken.example");
        Resolution second = resolve(withBackup, "broken.example");

        assertThat(first).isInstanceOf(Resolution.Targets.class);
        assertThat(second).isEqualTo(first);
        assertThat(dns.queries("broken.example")).isEqualTo(3); // SERVFAIL once more, the answer then cached
        assertThat(backup.queries("broken.example")).isEqualTo(1);
        assertThat(lookups("mx", "servfail")).isEqualTo(2);
    }

    @Test
    void shouldNotCacheATimeout() throws Exception {
        MxResolver resolver = new MxResolver(vertx, servers(dns), Duration.ofMillis(300),
                new TransportMetrics(registry), null, new DnsCache(MAX_TTL, NEGATIVE_TTL, 100, now::get));
        resolvers.add(resolver);

        assertThat(resolve(resolver, "silent.example")).isInstanceOfSatisfying(Resolution.Unroutable.class,
                u -> assertThat(u.reason().text()).startsWith("451 4.4.3").contains("timeout"));
        resolve(resolver, "silent.example");

        assertThat(dns.queries("silent.example")).isEqualTo(2);
        assertThat(lookups("mx", "timeout")).isEqualTo(2);
    }

    @Test
    void shouldNotCacheATtlOfZero() throws Exception {
        MxResolver resolver = cached(MAX_TTL);
        resolve(resolver, "zero.example");
        resolve(resolver, "zero.example");

        assertThat(dns.queries("zero.example")).isEqualTo(2);
        assertThat(dns.queries("mx.zero.example")).isEqualTo(3); // A (TTL 0) twice, AAAA (NODATA) once
    }

    @Test
    void shouldAskEveryTimeWhenTheCacheIsOff() throws Exception {
        MxResolver off = cached(Duration.ZERO);
        MxResolver noRoom = new MxResolver(vertx, servers(dns), Duration.ofSeconds(2), new TransportMetrics(registry),
                null, new DnsCache(MAX_TTL, NEGATIVE_TTL, 0, now::get));
        resolvers.add(noRoom);
        resolve(off, "off.example");
        resolve(off, "off.example");
        resolve(noRoom, "off.example");
        resolve(noRoom, "off.example");

        assertThat(dns.queries("off.example")).isEqualTo(4);
        assertThat(dns.queries("mx.off.example")).isEqualTo(8);
        assertThat(cacheCount("mx", "hit") + cacheCount("mx", "miss")).isZero();
    }

    @Test
    void shouldShuffleEqualPreferencesAtEveryResolutionOfACachedAnswer() throws Exception {
        MxResolver seeded = new MxResolver(vertx, servers(dns), Duration.ofSeconds(2), new TransportMetrics(registry),
                new Random(42), new DnsCache(MAX_TTL, NEGATIVE_TTL, 100, now::get));
        resolvers.add(seeded);
        Set<List<String>> orders = new HashSet<>();

        for (int i = 0; i < 30; i++) {
            Resolution r = resolve(seeded, "equal.example");
            orders.add(((Resolution.Targets) r).targets().stream().map(SmtpTarget::hostName).toList());
        }

        assertThat(dns.queries("equal.example")).isEqualTo(1);
        assertThat(orders).hasSizeGreaterThan(2); // 6 orders possible; a cached fixed order would be 1
    }

    private MxResolver cached(Duration maxTtl, DnsResponder... responders) {
        MxResolver resolver = new MxResolver(vertx, servers(responders.length == 0 ? new DnsResponder[]{dns}
                : responders), Duration.ofSeconds(2), new TransportMetrics(registry), null,
                new DnsCache(maxTtl, NEGATIVE_TTL, 1000, now::get));
        resolvers.add(resolver);
        return resolver;
    }

    private static List<DnsServers.Server> servers(DnsResponder... responders) {
        List<DnsServers.Server> servers = new ArrayList<>();
        for (DnsResponder responder : responders) {
            servers.add(new DnsServers.Server("127.0.0.1", responder.port()));
        }
        return servers;
    }

    private void advance(Duration duration) {
        now.addAndGet(duration.toMillis());
    }

    private double cacheCount(String type, String result) {
        var counter = registry.find(TransportMetrics.DNS_CACHE).tag("type", type).tag("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    private double lookups(String type, String result) {
        var counter = registry.find(TransportMetrics.DNS_LOOKUPS).tag("type", type).tag("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    private static void assertPermanent(Resolution resolution, String reply) {
        assertThat(resolution).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(u.reason().text()).startsWith(reply);
        });
    }

    private static Resolution resolve(MxResolver mx, String domain) throws Exception {
        return mx.resolve(domain, 25, TlsPolicy.OPPORTUNISTIC).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    private static List<String> addresses(MxResolver mx, String host) throws Exception {
        return mx.addresses(host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
