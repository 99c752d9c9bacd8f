package dev.relay.delivery.mx;

import dev.relay.common.envelope.Route;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Route precedence and the private-address guard; only IP literals, so no DNS is asked. */
class RouteResolverTest {

    private static final Route STATIC_LOOPBACK = new Route("example.org", Route.Kind.STATIC, "127.0.0.1", 2525,
            "none");

    private static Vertx vertx;
    private static MxResolver mx;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
        // a resolver that is never asked in these tests (discard port: would fail fast if it were)
        mx = new MxResolver(vertx, List.of(new DnsServers.Server("127.0.0.1", 9)), Duration.ofMillis(200));
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldRefuseLoopbackRouteWhenPrivateDestinationsAreNotAllowed() throws Exception {
        Resolution resolution = resolve(resolver(false, Optional.empty(), Map.of()), STATIC_LOOPBACK);

        assertThat(resolution).isInstanceOfSatisfying(Resolution.Unroutable.class, u -> {
            assertThat(u.status()).isEqualTo(DeliveryStatus.PERMANENT);
            assertThat(u.reason().text()).startsWith("550 5.4.4 refusing to connect to private address 127.0.0.1");
        });
    }

    @Test
    void shouldAllowLoopbackRouteWhenPrivateDestinationsAreAllowed() throws Exception {
        Resolution resolution = resolve(resolver(true, Optional.empty(), Map.of()), STATIC_LOOPBACK);

        // the targets: the review (which leaves the route's TLS decision on the results) is a function
        assertThat(resolution).isInstanceOf(Resolution.Targets.class);
        assertThat(((Resolution.Targets) resolution).targets()).isEqualTo(List.of(
                new SmtpTarget("127.0.0.1", "127.0.0.1", 2525, TlsPolicy.NONE)));
    }

    @Test
    void shouldAllowLoopbackSmarthostOnlyWhenConfiguredInternal() throws Exception {
        RouteResolver internal = strictResolver(Optional.of(NextHopSpec.parse("127.0.0.2:2526;tls=none;internal")),
                Map.of());
        RouteResolver plain = strictResolver(Optional.of(NextHopSpec.parse("127.0.0.2:2526;tls=none")), Map.of());

        assertThat(targets(resolve(internal, STATIC_LOOPBACK))).singleElement()
                .isEqualTo(new SmtpTarget("127.0.0.2", "127.0.0.2", 2526, TlsPolicy.NONE));
        assertThat(resolve(plain, STATIC_LOOPBACK)).isInstanceOf(Resolution.Unroutable.class);
    }

    @Test
    void shouldAllowPrivateRouteOnlyWhenConfiguredInternalAndNeverThePolicysRoute() throws Exception {
        RouteResolver resolver = strictResolver(Optional.empty(),
                Map.of("example.org", NextHopSpec.parse("[::1]:2527;internal")));

        assertThat(targets(resolve(resolver, STATIC_LOOPBACK))).singleElement()
                .isEqualTo(new SmtpTarget("::1", "::1", 2527, TlsPolicy.OPPORTUNISTIC));
        // the envelope's (policy's) route to the same kind of address is not internal
        assertThat(resolver.resolve("other.example", STATIC_LOOPBACK).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS)).isInstanceOf(Resolution.Unroutable.class);
    }

    @Test
    void shouldRefuseMetadataAddressEvenForInternalHop() throws Exception {
        RouteResolver resolver = strictResolver(Optional.of(NextHopSpec.parse("169.254.169.254:25;internal")),
                Map.of());

        assertThat(resolve(resolver, STATIC_LOOPBACK)).isInstanceOf(Resolution.Unroutable.class);
    }

    @Test
    void shouldGiveTheCanonicalLiteralAsTarget() throws Exception {
        RouteResolver resolver = strictResolver(Optional.of(NextHopSpec.parse("[0:0:0:0:0:0:0:1]:2526;internal")),
                Map.of());

        assertThat(targets(resolve(resolver, STATIC_LOOPBACK))).singleElement()
                .extracting(SmtpTarget::address).isEqualTo("::1");
    }

    @Test
    void shouldPreferSmarthostOverEverything() throws Exception {
        RouteResolver resolver = resolver(true, Optional.of(NextHopSpec.parse("127.0.0.2:2526")),
                Map.of("example.org", NextHopSpec.parse("127.0.0.3:2527")));

        assertThat(targets(resolve(resolver, STATIC_LOOPBACK))).extracting(SmtpTarget::address, SmtpTarget::port)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("127.0.0.2", 2526));
    }

    @Test
    void shouldPreferConfiguredRouteOverEnvelopeRoute() throws Exception {
        RouteResolver resolver = resolver(true, Optional.empty(),
                Map.of("example.org", NextHopSpec.parse("127.0.0.3:2527;tls=required")));

        assertThat(targets(resolve(resolver, STATIC_LOOPBACK))).singleElement()
                .isEqualTo(new SmtpTarget("127.0.0.3", "127.0.0.3", 2527, TlsPolicy.REQUIRED));
    }

    @Test
    void shouldUseDefaultPortWhenRouteGivesNone() throws Exception {
        Route route = new Route("example.org", Route.Kind.SMARTHOST, "127.0.0.4", 0, "opportunistic");

        assertThat(targets(resolve(resolver(true, Optional.empty(), Map.of()), route))).singleElement()
                .extracting(SmtpTarget::port).isEqualTo(25);
    }

    private static RouteResolver resolver(boolean allowPrivate, Optional<NextHopSpec> smarthost,
                                          Map<String, NextHopSpec> routes) {
        return new RouteResolver(vertx, mx, new DestinationGuard(allowPrivate), smarthost, routes, 25);
    }

    private static RouteResolver strictResolver(Optional<NextHopSpec> smarthost, Map<String, NextHopSpec> routes) {
        return new RouteResolver(vertx, mx, DestinationGuard.strict(), smarthost, routes, 25);
    }

    private static Resolution resolve(RouteResolver resolver, Route route) throws Exception {
        return resolver.resolve("example.org", route).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    private static List<SmtpTarget> targets(Resolution resolution) {
        assertThat(resolution).isInstanceOf(Resolution.Targets.class);
        return ((Resolution.Targets) resolution).targets();
    }
}
