package dev.relay.policy.routing;

import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RuleSet;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses the next hop for a recipient domain: an exact static route, then the closest {@code *.parent} wildcard
 * route, then the smarthost, otherwise the domain's MX (resolved by the delivery service).
 */
public final class Router {

    /** A next hop {@code host:port} (port 25 when absent) and its TLS policy. */
    public record Hop(String hostPort, String tls) {
    }

    private final Map<String, Hop> routes;
    private final Optional<Hop> smarthost;

    public Router(Map<String, Hop> routes, Optional<Hop> smarthost) {
        Map<String, Hop> lower = new LinkedHashMap<>();
        routes.forEach((domain, hop) -> lower.put(domain.toLowerCase(Locale.ROOT), hop));
        this.routes = lower;
        this.smarthost = smarthost;
    }

    /** The configuration's transport map ({@code relay.policy.routes}), one TLS policy for all. */
    public Router(Map<String, String> routes, Optional<String> smarthost, String tlsPolicy) {
        this(toHops(routes, tlsPolicy), smarthost.map(s -> new Hop(s, tlsPolicy)));
    }

    /**
     * The routes of a rule set, or {@code fallback} when the rule set has neither routes nor a smarthost.
     * A route or smarthost without {@code tls} gets {@code defaultTls}.
     */
    public static Router of(RuleSet set, Router fallback, String defaultTls) {
        if (set.routes().isEmpty() && set.smarthost() == null) {
            return fallback;
        }
        Map<String, Hop> hops = new LinkedHashMap<>();
        set.routes().forEach(r -> hops.put(r.domain(), new Hop(r.nextHop(), r.tls() == null ? defaultTls : r.tls())));
        return new Router(hops, Optional.ofNullable(set.smarthost()).map(s -> new Hop(s.nextHop(),
                s.tls() == null ? defaultTls : s.tls())));
    }

    public Route route(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        Hop hop = routes.get(d);
        String parent = d;
        while (hop == null && parent.contains(".")) {
            parent = parent.substring(parent.indexOf('.') + 1);
            hop = routes.get("*." + parent);
        }
        if (hop != null) {
            return route(d, Route.Kind.STATIC, hop);
        }
        return smarthost.map(s -> route(d, Route.Kind.SMARTHOST, s)).orElseGet(() -> Route.mx(d));
    }

    private static Route route(String domain, Route.Kind kind, Hop hop) {
        String hostPort = hop.hostPort();
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new Route(domain, kind, hostPort, 25, hop.tls());
        }
        return new Route(domain, kind, hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)),
                hop.tls());
    }

    private static Map<String, Hop> toHops(Map<String, String> routes, String tls) {
        Map<String, Hop> hops = new LinkedHashMap<>();
        routes.forEach((domain, hostPort) -> hops.put(domain, new Hop(hostPort, tls)));
        return hops;
    }
}
