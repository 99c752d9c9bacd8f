package dev.relay.delivery.mx;

import dev.relay.common.envelope.Route;
import dev.relay.common.net.IpLiteral;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.tls.DeliveryTlsPolicy;
import dev.relay.delivery.tls.TlsPolicyMap;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Decides where mail for one recipient domain goes, first match wins:
 * <ol>
 *   <li>the configured smarthost ({@code relay.delivery.smarthost}): all mail;</li>
 *   <li>the configured transport map ({@code relay.delivery.routes}): by recipient domain;</li>
 *   <li>a LOCAL route in the envelope (a local domain of the rule set): the mailbox backend
 *       ({@code relay.delivery.mailbox-route}); without one the recipients are deferred {@code 4.3.5} until the
 *       operator configures it (or they expire), and never looked up by MX, which is Relay itself;</li>
 *   <li>the route in the envelope, when the policy service chose STATIC or SMARTHOST;</li>
 *   <li>DNS MX of the domain (bounced {@code 5.4.6} when the MX list leads back to our own name), under the
 *       domain's MTA-STS policy when there is one ({@link MtaSts}: enforce keeps only matching MX hosts, with
 *       verified TLS).</li>
 * </ol>
 * Then every address goes through the {@link DestinationGuard}; a private address passes only for a configured
 * next hop marked {@code ;internal} (the smarthost, {@code relay.delivery.routes} or the mailbox route), never for
 * DNS MX or a route chosen by the policy service. Host names of configured and policy routes are resolved with the system resolver
 * (hosts file, search domains: a smarthost is often a cluster-local name), off the event loop; MX lookups and MX
 * host addresses use {@link MxResolver} (its own DNS client and cache) and {@code relay.delivery.dns.servers}.
 * Every target carries the canonical IP literal that was checked, and the connection goes to exactly that
 * address: no name is resolved again at connect time (DNS rebinding). How much TLS each target demands is decided
 * last, by {@link DeliveryTlsPolicy} (policy table, DANE, default) for DNS MX and for the transport map and policy
 * routes (by recipient domain); the smarthost and the mailbox route keep their own.
 */
public final class RouteResolver {

    private static final Logger LOG = Logger.getLogger(RouteResolver.class);

    private final Vertx vertx;
    private final MxResolver mx;
    private final DestinationGuard guard;
    private final Optional<NextHopSpec> smarthost;
    private final Map<String, NextHopSpec> routes;
    private final Optional<NextHopSpec> mailboxRoute;
    private final int defaultPort;
    private final TransportMetrics metrics;
    private final DeliveryTlsPolicy tlsPolicy;

    /** Without a mailbox route (LOCAL recipients are deferred) and with metrics of its own. */
    public RouteResolver(Vertx vertx, MxResolver mx, DestinationGuard guard, Optional<NextHopSpec> smarthost,
                         Map<String, NextHopSpec> routes, int defaultPort) {
        this(vertx, mx, guard, smarthost, routes, Optional.empty(), defaultPort,
                new TransportMetrics(new SimpleMeterRegistry()));
    }

    /**
     * @param mailboxRoute where LOCAL recipients go ({@code relay.delivery.mailbox-route}); empty: they are deferred
     * @param metrics      counts LOCAL recipients deferred for want of a mailbox route
     */
    public RouteResolver(Vertx vertx, MxResolver mx, DestinationGuard guard, Optional<NextHopSpec> smarthost,
                         Map<String, NextHopSpec> routes, Optional<NextHopSpec> mailboxRoute, int defaultPort,
                         TransportMetrics metrics) {
        this(vertx, mx, guard, smarthost, routes, mailboxRoute, defaultPort, metrics,
                new DeliveryTlsPolicy(TlsPolicyMap.empty(), mx, metrics));
    }

    /** @param tlsPolicy decides the TLS demand of MX and route targets (table, DANE) */
    public RouteResolver(Vertx vertx, MxResolver mx, DestinationGuard guard, Optional<NextHopSpec> smarthost,
                         Map<String, NextHopSpec> routes, Optional<NextHopSpec> mailboxRoute, int defaultPort,
                         TransportMetrics metrics, DeliveryTlsPolicy tlsPolicy) {
        this.vertx = vertx;
        this.tlsPolicy = tlsPolicy;
        this.mx = mx;
        this.guard = guard;
        this.smarthost = smarthost;
        this.routes = routes;
        this.mailboxRoute = mailboxRoute;
        this.defaultPort = defaultPort;
        this.metrics = metrics;
    }

    public Future<Resolution> resolve(String domain, Route envelopeRoute) {
        String key = domain.toLowerCase(Locale.ROOT);
        if (smarthost.isPresent()) {
            return configured(smarthost.get()).map(r -> guarded(r, smarthost.get().internal()));
        }
        if (routes.containsKey(key)) {
            NextHopSpec hop = routes.get(key);
            return configured(hop).map(r -> tlsPolicy.forRoute(key, guarded(r, hop.internal())));
        }
        if (envelopeRoute != null && envelopeRoute.kind() == Route.Kind.LOCAL) {
            return local(key);
        }
        if (envelopeRoute != null && envelopeRoute.kind() != Route.Kind.MX && envelopeRoute.host() != null) {
            // the policy's routes cannot say "internal": an internal next hop is configured here, where it is used
            NextHopSpec hop;
            try {
                hop = new NextHopSpec(envelopeRoute.host(), envelopeRoute.port(),
                        TlsPolicy.parse(envelopeRoute.tlsPolicy()), false, envelopeRoute.auth());
            } catch (IllegalArgumentException e) {
                // a route the policy's validator let through (e.g. auth with tls none): ours to fix, so retry
                return Future.succeededFuture(Resolution.failure(451, "4.3.5", "unusable route for " + key
                        + ": " + e.getMessage()));
            }
            return configured(hop).map(r -> tlsPolicy.forRoute(key, guarded(r, false)));
        }
        TlsPolicy tls = envelopeRoute == null ? TlsPolicy.OPPORTUNISTIC : TlsPolicy.parse(envelopeRoute.tlsPolicy());
        return mx.resolve(key, defaultPort, tls).map(r -> guarded(r, false))
                .compose(r -> tlsPolicy.forMx(key, r, tls));
    }

    /** A local domain: the mailbox route, or a deferral an operator sees (log line, metric); never DNS. */
    private Future<Resolution> local(String domain) {
        if (mailboxRoute.isPresent()) {
            return configured(mailboxRoute.get()).map(r -> guarded(r, mailboxRoute.get().internal()));
        }
        metrics.localUnrouted();
        LOG.warnf("mail for local domain %s deferred: relay.delivery.mailbox-route is not configured (it would "
                + "loop through this relay by MX); set it to the mailbox backend", domain);
        return Future.succeededFuture(Resolution.failure(451, "4.3.5", "no mailbox route for local domain "
                + domain + ": relay.delivery.mailbox-route is not configured"));
    }

    private Future<Resolution> configured(NextHopSpec hop) {
        int port = hop.port() == 0 ? defaultPort : hop.port();
        return systemAddresses(hop.host()).transform(found -> {
            if (found.failed() || found.result().isEmpty()) {
                // A configured next hop that does not resolve is our problem, not the recipient's: retry.
                String why = found.failed() ? String.valueOf(found.cause().getMessage()) : "no address";
                return Future.succeededFuture(Resolution.failure(451, "4.4.3",
                        "next hop " + hop.host() + " does not resolve: " + why));
            }
            return Future.succeededFuture(new Resolution.Targets(found.result().stream()
                    .map(ip -> new SmtpTarget(hop.host(), ip, port, hop.tls(), hop.auth())).toList()));
        });
    }

    /** The canonical IP literals of {@code host}: itself when it is a literal, else the system resolver's. */
    private Future<List<String>> systemAddresses(String host) {
        byte[] literal = IpLiteral.parse(host);
        if (literal != null) {
            return Future.succeededFuture(List.of(IpLiteral.format(literal)));
        }
        return vertx.executeBlocking(() -> Arrays.stream(InetAddress.getAllByName(host))
                .map(ip -> IpLiteral.format(ip.getAddress())).distinct().toList(), false);
    }

    private Resolution guarded(Resolution resolution, boolean internalHop) {
        if (!(resolution instanceof Resolution.Targets found)) {
            return resolution;
        }
        List<SmtpTarget> permitted = found.targets().stream()
                .filter(t -> guard.permits(t.address(), internalHop)).toList();
        if (permitted.isEmpty() && !found.targets().isEmpty()) {
            return Resolution.failure(550, "5.4.4", "refusing to connect to private address "
                    + found.targets().get(0).address() + " of " + found.targets().get(0).hostName());
        }
        return new Resolution.Targets(permitted, found.secureHosts());
    }
}
