package dev.relay.policy.decide;

import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RuleSet;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Chooses the next hop for a recipient domain: the built-in discard route for {@link Route#DISCARD_DOMAIN} (the
 * synthetic probe's recipients, docs/adr/0022; nothing overrides it), then an exact static route, then the closest {@code *.parent} wildcard
 * route, then {@link Route.Kind#LOCAL} for a local domain, then the smarthost, otherwise the domain's MX (resolved
 * by the delivery service).
 *
 * <p>A local domain's MX is Relay itself: routing it by MX sent inbound mail round the relay until its hop count
 * bounced it (issue 13). So a local domain is never routed by MX, nor to the smarthost (which is for the rest of
 * the world, as Postfix's relayhost is not used for its own domains); an explicit route naming the domain (exact
 * or {@code *.parent}, as Postfix's transport map overrides local delivery) still wins, for a mailbox backend the
 * rule set names itself.
 */
public final class Router {

    /**
     * A next hop {@code host:port} (port 25 when absent), its TLS policy, and the name of the credential the
     * delivery service authenticates with there (null: none).
     */
    public record Hop(String hostPort, String tls, String auth) {

        public Hop(String hostPort, String tls) {
            this(hostPort, tls, null);
        }
    }

    private final Map<String, Hop> routes;
    private final Optional<Hop> smarthost;
    private final Set<String> localDomains;

    /** Without local domains (the configuration's routes before a rule set names them). */
    public Router(Map<String, Hop> routes, Optional<Hop> smarthost) {
        this(routes, smarthost, Set.of());
    }

    public Router(Map<String, Hop> routes, Optional<Hop> smarthost, Collection<String> localDomains) {
        Map<String, Hop> lower = new LinkedHashMap<>();
        routes.forEach((domain, hop) -> lower.put(domain.toLowerCase(Locale.ROOT), hop));
        this.routes = lower;
        this.smarthost = smarthost;
        this.localDomains = localDomains.stream().map(d -> d.toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
    }

    /** The configuration's transport map ({@code relay.policy.routes}), one TLS policy for all. */
    public Router(Map<String, String> routes, Optional<String> smarthost, String tlsPolicy) {
        this(toHops(routes, tlsPolicy), smarthost.map(s -> new Hop(s, tlsPolicy)));
    }

    /**
     * The routes of a rule set, or those of {@code fallback} when the rule set has neither routes nor a smarthost;
     * either way with the rule set's local domains. A route or smarthost without {@code tls} gets
     * {@code defaultTls}.
     */
    public static Router of(RuleSet set, Router fallback, String defaultTls) {
        if (set.routes().isEmpty() && set.smarthost() == null) {
            return new Router(fallback.routes, fallback.smarthost, set.localDomains());
        }
        Map<String, Hop> hops = new LinkedHashMap<>();
        set.routes().forEach(r -> hops.put(r.domain(), new Hop(r.nextHop(), r.tls() == null ? defaultTls : r.tls(),
                r.auth())));
        return new Router(hops, Optional.ofNullable(set.smarthost()).map(s -> new Hop(s.nextHop(),
                s.tls() == null ? defaultTls : s.tls(), s.auth())), set.localDomains());
    }

    public Route route(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        if (d.equals(Route.DISCARD_DOMAIN)) {
            return Route.discard(d);
        }
        Hop hop = routes.get(d);
        String parent = d;
        while (hop == null && parent.contains(".")) {
            parent = parent.substring(parent.indexOf('.') + 1);
            hop = routes.get("*." + parent);
        }
        if (hop != null) {
            return route(d, Route.Kind.STATIC, hop);
        }
        if (localDomains.contains(d)) {
            return Route.local(d);
        }
        return smarthost.map(s -> route(d, Route.Kind.SMARTHOST, s)).orElseGet(() -> Route.mx(d));
    }

    /**
     * A hop with a credential needs TLS: a default policy that is weaker than {@code required} (the validator
     * refuses an explicit {@code none} next to {@code auth}) is raised, as the delivery service would do anyway.
     */
    private static Route route(String domain, Route.Kind kind, Hop hop) {
        String hostPort = hop.hostPort();
        String tls = hop.auth() != null && (hop.tls() == null || hop.tls().equals("none")
                || hop.tls().equals("opportunistic")) ? "required" : hop.tls();
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new Route(domain, kind, hostPort, 25, tls, hop.auth());
        }
        return new Route(domain, kind, hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)),
                tls, hop.auth());
    }

    private static Map<String, Hop> toHops(Map<String, String> routes, String tls) {
        Map<String, Hop> hops = new LinkedHashMap<>();
        routes.forEach((domain, hostPort) -> hops.put(domain, new Hop(hostPort, tls)));
        return hops;
    }
}
