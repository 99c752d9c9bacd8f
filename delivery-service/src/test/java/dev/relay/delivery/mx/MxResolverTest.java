package dev.relay.delivery.mx;

import dev.relay.common.envelope.Route;
import dev.relay.delivery.transport.DeliveryStatus;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/** MX resolution with the Vert.x DNS client against a real (tiny) DNS server on a UDP socket. */
class MxResolverTest {

    private static Vertx vertx;
    private static FakeDnsServer dns;
    private static MxResolver resolver;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        dns = new FakeDnsServer()
                .mx("example.org", 20, "mx2.example.org").mx("example.org", 10, "mx1.example.org")
                .a("mx1.example.org", "192.0.2.1").aaaa("mx1.example.org", "2001:db8::1")
                .a("mx2.example.org", "192.0.2.2")
                .exists("implicit.example").a("implicit.example", "192.0.2.3")
                .mx("nullmx.example", 0, ".")
                .mx("loop.example", 10, "mx.loop.example").a("mx.loop.example", "127.0.0.1")
                .mx("dangling.example", 10, "gone.example");
        resolver = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", dns.port())),
                Duration.ofSeconds(2));
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
            assertThat(u.reason()).startsWith("556 5.1.10");
        });
    }

    @Test
    void shouldBounceDomainThatDoesNotExist() throws Exception {
        assertThat(resolve(resolver, "nowhere.example")).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(u.reason()).startsWith("550 5.1.2");
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
            assertThat(u.reason()).startsWith("451 4.4.3");
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
            assertThat(u.reason()).startsWith("550 5.4.4 refusing to connect to private address 127.0.0.1");
        });
    }

    private static Resolution resolve(MxResolver mx, String domain) throws Exception {
        return mx.resolve(domain, 25, TlsPolicy.OPPORTUNISTIC).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }
}
