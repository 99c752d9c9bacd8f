package dev.relay.delivery.mx;

import dev.relay.common.envelope.Route;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import dev.relay.testkit.DnsResponder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.HashSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/** MX resolution (without a cache) against the testkit's real DNS responder on a loopback UDP socket. */
class MxResolverTest {

    private static Vertx vertx;
    private static DnsResponder dns;
    private static MxResolver resolver;
    private static SimpleMeterRegistry registry;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        dns = DnsResponder.start()
                .mx("example.org", 20, "mx2.example.org").mx("example.org", 10, "mx1.example.org")
                .a("mx1.example.org", "192.0.2.1").aaaa("mx1.example.org", "2001:db8::1")
                .a("mx2.example.org", "192.0.2.2")
                .exists("implicit.example").a("implicit.example", "192.0.2.3")
                .mx("nullmx.example", 0, ".")
                .mx("loop.example", 10, "mx.loop.example").a("mx.loop.example", "127.0.0.1")
                .mx("dangling.example", 10, "gone.example")
                .servfail("broken.example")
                .silent("silent.example")
                .exists("nodata.example")
                .mx("equal.example", 10, "a.equal.example").mx("equal.example", 10, "b.equal.example")
                .mx("equal.example", 10, "c.equal.example").mx("equal.example", 5, "first.equal.example")
                .a("a.equal.example", "192.0.2.11").a("b.equal.example", "192.0.2.12")
                .a("c.equal.example", "192.0.2.13").a("first.equal.example", "192.0.2.10");
        registry = new SimpleMeterRegistry();
        resolver = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2), new TransportMetrics(registry), null);
    }

    @AfterAll
    static void stop() throws Exception {
        dns.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldOrderMxHostsByPreferenceAndResolveTheirAddresses() throws Exception {
        Resolution resolution = resolve(resolver, "example.org");

        assertThat(resolution).isInstanceOfSatisfying(Resolution.Targets.class, t -> assertThat(t.targets())
                .extracting(SmtpTarget::hostName, SmtpTarget::address, SmtpTarget::port)
                .containsExactly(tuple("mx1.example.org", "192.0.2.1", 25),
                        tuple("mx1.example.org", "2001:db8:0:0:0:0:0:1", 25),
                        tuple("mx2.example.org", "192.0.2.2", 25)));
    }

    @Test
    void shouldUseDomainAddressWhenThereIsNoMx() throws Exception {
        Resolution resolution = resolve(resolver, "implicit.example");

        assertThat(resolution).isEqualTo(new Resolution.Targets(List.of(
                new SmtpTarget("implicit.example", "192.0.2.3", 25, TlsPolicy.OPPORTUNISTIC))));
    }

    @Test
    void shouldBounceDomainWithNullMx() throws Exception {
        assertThat(resolve(resolver, "nullmx.example")).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(u.reason().text()).startsWith("556 5.1.10");
        });
    }

    @Test
    void shouldBounceDomainThatDoesNotExist() throws Exception {
        assertThat(resolve(resolver, "nowhere.example")).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(u.reason().text()).startsWith("550 5.1.2");
        });
    }

    @Test
    void shouldDeferWhenMxHostsHaveNoAddress() throws Exception {
        assertThat(resolve(resolver, "dangling.example")).isInstanceOfSatisfying(Resolution.Unroutable.class,
                u -> assertThat(u.status()).isEqualTo(DeliveryStatus.TRANSIENT));
    }

    @Test
    void shouldDeferWhenDnsDoesNotAnswer() throws Exception {
        int silentPort;
        try (DatagramSocket silent = new DatagramSocket(0)) {
            silentPort = silent.getLocalPort();
        }
        MxResolver unanswered = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", silentPort)),
                Duration.ofMillis(300));

        assertThat(resolve(unanswered, "example.org")).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(u.reason().text()).startsWith("451 4.4.3");
        });
    }

    @Test
    void shouldAskNextServerWhenFirstDoesNotAnswer() throws Exception {
        int silentPort;
        try (DatagramSocket silent = new DatagramSocket(0)) {
            silentPort = silent.getLocalPort();
        }
        MxResolver failover = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", silentPort),
                new DnsServers.Server("127.0.0.1", dns.port())), Duration.ofMillis(500));

        assertThat(resolve(failover, "implicit.example")).isInstanceOf(Resolution.Targets.class);
    }

    @Test
    void shouldRefuseMxThatPointsToLoopback() throws Exception {
        RouteResolver routes = new RouteResolver(vertx, resolver, new DestinationGuard(false), Optional.empty(),
                Map.of(), 25);

        Resolution resolution = routes.resolve("loop.example", Route.mx("loop.example")).toCompletionStage()
                .toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertThat(resolution).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(u.reason().text()).startsWith("550 5.4.4 refusing to connect to private address 127.0.0.1");
        });
    }

    @Test
    void shouldDeferWhenDnsAnswersServfail() throws Exception {
        assertThat(resolve(resolver, "broken.example")).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.TRANSIENT);
            assertThat(u.reason().text()).startsWith("451 4.4.3").contains("SERVFAIL");
        });
        assertThat(lookups("mx", "servfail")).isPositive();
    }

    @Test
    void shouldCountLookupsByTypeAndResult() throws Exception {
        double okBefore = lookups("mx", "ok");
        double nxBefore = lookups("mx", "nxdomain");
        double nodataBefore = lookups("mx", "nodata");

        resolve(resolver, "example.org");
        resolve(resolver, "nowhere.example");
        resolve(resolver, "nodata.example");

        assertThat(lookups("mx", "ok")).isEqualTo(okBefore + 1);
        assertThat(lookups("mx", "nxdomain")).isEqualTo(nxBefore + 1);
        assertThat(lookups("mx", "nodata")).isEqualTo(nodataBefore + 1);
        assertThat(lookups("a", "ok")).isPositive();
    }

    @Test
    void shouldCountATimeoutAsTimeout() throws Exception {
        SimpleMeterRegistry own = new SimpleMeterRegistry();
        MxResolver impatient = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofMillis(300), new TransportMetrics(own), null);

        assertThat(resolve(impatient, "silent.example")).isInstanceOfSatisfying(Resolution.Unroutable.class,
                u -> assertThat(u.status()).isEqualTo(DeliveryStatus.TRANSIENT));
        assertThat(own.find(TransportMetrics.DNS_LOOKUPS).tag("type", "mx").tag("result", "timeout").counter()
                .count()).isEqualTo(1);
    }

    @Test
    void shouldShuffleEqualPreferencesButKeepPreferenceOrder() throws Exception {
        Set<List<String>> orders = new HashSet<>();
        MxResolver seeded = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2), new TransportMetrics(new SimpleMeterRegistry()), new Random(42));

        for (int i = 0; i < 30; i++) {
            Resolution r = resolve(seeded, "equal.example");
            List<String> hosts = ((Resolution.Targets) r).targets().stream().map(SmtpTarget::hostName).toList();
            assertThat(hosts.get(0)).isEqualTo("first.equal.example");
            assertThat(hosts.subList(1, 4)).containsExactlyInAnyOrder("a.equal.example", "b.equal.example",
                    "c.equal.example");
            orders.add(hosts);
        }

        // 3 hosts of equal preference: 6 orders; 30 seeded draws see several of them (a fixed order would be 1)
        assertThat(orders.size()).isGreaterThan(2);
    }

    private static double lookups(String type, String result) {
        var counter = registry.find(TransportMetrics.DNS_LOOKUPS).tag("type", type).tag("result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    private static Resolution resolve(MxResolver mx, String domain) throws Exception {
        return mx.resolve(domain, 25, TlsPolicy.OPPORTUNISTIC).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }
}
