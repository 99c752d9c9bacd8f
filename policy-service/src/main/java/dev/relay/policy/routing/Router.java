package dev.relay.policy.routing;

import dev.relay.common.envelope.Route;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Chooses the next hop for a recipient domain: an exact static route, then the closest {@code *.parent} wildcard
 * route, then the smarthost, otherwise the domain's MX (resolved by the delivery service).
 */
public final class Router {

    private final Map<String, String> routes;
    private final Optional<String> smarthost;
    private final String tlsPolicy;

    public Router(Map<String, String> routes, Optional<String> smarthost, String tlsPolicy) {
        this.routes = routes;
        this.smarthost = smarthost;
        this.tlsPolicy = tlsPolicy;
    }

    public Route route(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        String hop = routes.get(d);
        String parent = d;
        while (hop == null && parent.contains(".")) {
            parent = parent.substring(parent.indexOf('.') + 1);
            hop = routes.get("*." + parent);
        }
        if (hop != null) {
            return hop(d, Route.Kind.STATIC, hop);
        }
        return smarthost.map(s -> hop(d, Route.Kind.SMARTHOST, s)).orElseGet(() -> Route.mx(d));
    }

    private Route hop(String domain, Route.Kind kind, String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new Route(domain, kind, hostPort, 25, tlsPolicy);
        }
        return new Route(domain, kind, hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)),
                tlsPolicy);
    }
}
