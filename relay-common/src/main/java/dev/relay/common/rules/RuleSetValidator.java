package dev.relay.common.rules;

import dev.relay.common.limits.RateLimitValidator;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks a {@link RuleSet} before it is stored or used. Every problem names the rule (path and index) and the
 * field, e.g. {@code routes[2].nextHop: port must be 1..65535}. An empty list means the set is usable.
 */
public final class RuleSetValidator {

    private RuleSetValidator() {
    }

    public static List<RuleProblem> validate(RuleSet set) {
        List<RuleProblem> problems = new ArrayList<>();
        if (set.version() == null || set.version() != RuleSet.FORMAT_VERSION) {
            problems.add(new RuleProblem("version", "must be " + RuleSet.FORMAT_VERSION + " (got " + set.version()
                    + ")"));
        }
        each(set.localDomains(), "localDomains", problems, (v, p) -> domain(v, p, problems));
        each(set.trustedNetworks(), "trustedNetworks", problems, (v, p) -> network(v, p, problems));
        each(set.relayRoles(), "relayRoles", problems, (v, p) -> name(v, p, problems));
        each(set.relayGroups(), "relayGroups", problems, (v, p) -> name(v, p, problems));
        recipients(set.recipients(), "recipients", problems);
        limits(set.limits(), "limits", problems);
        for (int i = 0; i < set.grants().size(); i++) {
            grant(set.grants().get(i), "grants[" + i + "]", problems);
        }
        Set<String> routed = new HashSet<>();
        for (int i = 0; i < set.routes().size(); i++) {
            String at = "routes[" + i + "]";
            RuleSet.RouteRule route = set.routes().get(i);
            if (route == null) {
                problems.add(new RuleProblem(at, "must not be null"));
                continue;
            }
            String domain = route.domain() == null ? null : route.domain().toLowerCase(Locale.ROOT);
            if (domain != null && !routed.add(domain)) {
                problems.add(new RuleProblem(at + ".domain", "duplicate route for " + domain));
            }
            domain(domain != null && domain.startsWith("*.") ? domain.substring(2) : domain, at + ".domain",
                    problems);
            nextHop(route.nextHop(), route.tls(), at, problems);
        }
        if (set.smarthost() != null) {
            nextHop(set.smarthost().nextHop(), set.smarthost().tls(), "smarthost", problems);
        }
        HeaderRules.validate(set.headers(), problems);
        RateLimitValidator.validate(set.rateLimits(), problems);
        return problems;
    }

    private interface Check {
        void check(String value, String path);
    }

    private static void each(List<String> values, String path, List<RuleProblem> problems, Check check) {
        for (int i = 0; i < values.size(); i++) {
            String at = path + "[" + i + "]";
            if (values.get(i) == null || values.get(i).isBlank()) {
                problems.add(new RuleProblem(at, "must not be empty"));
            } else {
                check.check(values.get(i), at);
            }
        }
    }

    private static void grant(RuleSet.Grant grant, String at, List<RuleProblem> problems) {
        if (grant == null) {
            problems.add(new RuleProblem(at, "must not be null"));
            return;
        }
        boolean role = grant.role() != null && !grant.role().isBlank();
        boolean group = grant.group() != null && !grant.group().isBlank();
        if (role == group) {
            problems.add(new RuleProblem(at + (role ? ".group" : ".role"),
                    "a grant names exactly one role or one group"));
        }
        each(grant.senders(), at + ".senders", problems, (v, p) -> pattern(v, p, problems));
        recipients(grant.recipients(), at + ".recipients", problems);
        limits(grant.limits(), at + ".limits", problems);
        if (grant.headerFrom() != null && !RuleSet.Grant.HEADER_FROM_BOUND.equals(grant.headerFrom())
                && !RuleSet.Grant.HEADER_FROM_FREE.equals(grant.headerFrom())) {
            problems.add(new RuleProblem(at + ".headerFrom", "must be \"bound\" or \"free\""));
        }
    }

    private static void recipients(RuleSet.RecipientLists lists, String at, List<RuleProblem> problems) {
        each(lists.allow(), at + ".allow", problems, (v, p) -> pattern(v, p, problems));
        each(lists.deny(), at + ".deny", problems, (v, p) -> pattern(v, p, problems));
    }

    private static void limits(RuleSet.Limits limits, String at, List<RuleProblem> problems) {
        if (limits.maxRecipients() != null && limits.maxRecipients() < 1) {
            problems.add(new RuleProblem(at + ".maxRecipients", "must be at least 1"));
        }
        if (limits.maxMessageSize() != null && limits.maxMessageSize() < 1) {
            problems.add(new RuleProblem(at + ".maxMessageSize", "must be at least 1"));
        }
    }

    private static void name(String value, String at, List<RuleProblem> problems) {
        if (!value.equals(value.trim())) {
            problems.add(new RuleProblem(at, "must not start or end with spaces"));
        }
    }

    private static void network(String value, String at, List<RuleProblem> problems) {
        try {
            Cidr cidr = Cidr.parse(value);
            if (cidr.prefix() == 0) {
                problems.add(new RuleProblem(at, "a /0 network would make Relay an open relay"));
            }
        } catch (IllegalArgumentException e) {
            problems.add(new RuleProblem(at, "not an IP network (CIDR): " + value));
        }
    }

    /** {@code local@domain}, {@code @domain} or {@code domain}. */
    private static void pattern(String value, String at, List<RuleProblem> problems) {
        int atSign = value.lastIndexOf('@');
        String local = atSign < 0 ? "" : value.substring(0, atSign);
        if (local.chars().anyMatch(c -> c <= ' ' || c == 0x7f) || local.indexOf('@') >= 0) {
            problems.add(new RuleProblem(at, "not an address or @domain pattern: " + value));
            return;
        }
        domain(value.substring(atSign + 1), at, problems);
    }

    static void domain(String value, String at, List<RuleProblem> problems) {
        if (value == null || value.isEmpty()) {
            problems.add(new RuleProblem(at, "a domain is required"));
            return;
        }
        if (value.length() > 255 || value.startsWith(".") || value.endsWith(".") || value.contains("..")) {
            problems.add(new RuleProblem(at, "not a domain: " + value));
            return;
        }
        for (String label : value.split("\\.")) {
            if (label.length() > 63 || label.startsWith("-") || label.endsWith("-")
                    || !label.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-')) {
                problems.add(new RuleProblem(at, "not a domain: " + value));
                return;
            }
        }
    }

    private static void nextHop(String hostPort, String tls, String at, List<RuleProblem> problems) {
        if (hostPort == null || hostPort.isBlank()) {
            problems.add(new RuleProblem(at + ".nextHop", "host:port is required"));
        } else {
            int colon = hostPort.lastIndexOf(':');
            String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
                if (Cidr.literal(host) == null) {
                    problems.add(new RuleProblem(at + ".nextHop", "not an IP literal: " + host));
                }
            } else if (Cidr.literal(host) == null) {
                domain(host, at + ".nextHop", problems);
            }
            if (colon >= 0) {
                int port;
                try {
                    port = Integer.parseInt(hostPort.substring(colon + 1));
                } catch (NumberFormatException e) {
                    port = -1;
                }
                if (port < 1 || port > 65535) {
                    problems.add(new RuleProblem(at + ".nextHop", "port must be 1..65535"));
                }
            }
        }
        if (tls != null && !RuleSet.TLS_POLICIES.contains(tls)) {
            problems.add(new RuleProblem(at + ".tls", "must be one of " + RuleSet.TLS_POLICIES));
        }
    }
}
