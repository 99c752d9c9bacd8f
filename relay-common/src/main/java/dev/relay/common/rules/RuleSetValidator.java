package dev.relay.common.rules;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.net.Cidr;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a {@link RuleSet} before it is stored or used. Every problem names the rule (path and index) and the
 * field, e.g. {@code routes[2].nextHop: port must be 1..65535}. An empty list means the set is usable.
 */
public final class RuleSetValidator {

    /** The names of credentials (a Kubernetes Secret volume's directory under the delivery's credentials dir). */
    private static final Pattern CREDENTIAL_NAME = Pattern.compile("[a-z0-9-]{1,63}");

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
            auth(route.auth(), route.tls(), at, problems);
        }
        if (set.smarthost() != null) {
            nextHop(set.smarthost().nextHop(), set.smarthost().tls(), "smarthost", problems);
            auth(set.smarthost().auth(), set.smarthost().tls(), "smarthost", problems);
        }
        localRecipients(set, problems);
        HeaderRules.validate(set.headers(), problems);
        RateLimitValidator.validate(set.rateLimits(), problems);
        DkimRules.validate(set.dkim(), problems);
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
        boolean organization = grant.organization() != null && !grant.organization().isBlank();
        if (organization && (role || group)) {
            problems.add(new RuleProblem(at + ".organization",
                    "a grant names exactly one role, one group or one organization"));
        } else if (!organization && role == group) {
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

    /** Characters that may separate a mailbox from its extension ({@code alice+news}). */
    static final String DELIMITERS = "+-_=~";

    /**
     * Each entry names a domain of {@code localDomains} once, and either lists mailboxes (bare local parts that
     * the address parser accepts) or says {@code catchAll}, not both and not neither.
     */
    private static void localRecipients(RuleSet set, List<RuleProblem> problems) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < set.localRecipients().size(); i++) {
            String at = "localRecipients[" + i + "]";
            RuleSet.LocalRecipients entry = set.localRecipients().get(i);
            if (entry == null) {
                problems.add(new RuleProblem(at, "must not be null"));
                continue;
            }
            String domain = entry.domain() == null ? null : entry.domain().toLowerCase(Locale.ROOT);
            int before = problems.size();
            domain(domain, at + ".domain", problems);
            if (problems.size() == before) {
                if (set.localDomains().stream().noneMatch(d -> d != null && d.equalsIgnoreCase(domain))) {
                    problems.add(new RuleProblem(at + ".domain", domain + " is not in localDomains"));
                }
                if (!seen.add(domain)) {
                    problems.add(new RuleProblem(at + ".domain", "duplicate recipient source for " + domain));
                }
            }
            if (entry.acceptsAll() && !entry.mailboxes().isEmpty()) {
                problems.add(new RuleProblem(at + ".catchAll", "catchAll accepts every mailbox: list none with it"));
            } else if (!entry.acceptsAll() && entry.mailboxes().isEmpty()) {
                problems.add(new RuleProblem(at + ".mailboxes",
                        "list the mailboxes of the domain, or set \"catchAll\": true"));
            }
            String suffix = domain == null || problems.size() > before ? "example.test" : domain;
            each(entry.mailboxes(), at + ".mailboxes", problems, (v, p) -> mailbox(v, suffix, p, problems));
            if (entry.delimiter() != null && (entry.delimiter().length() != 1
                    || DELIMITERS.indexOf(entry.delimiter().charAt(0)) < 0)) {
                problems.add(new RuleProblem(at + ".delimiter", "one of the characters " + DELIMITERS));
            }
        }
    }

    /** A bare local part ({@code alice}, not {@code alice@domain}) that the address parser accepts. */
    private static void mailbox(String value, String domain, String at, List<RuleProblem> problems) {
        if (value.indexOf('@') >= 0 && !value.startsWith("\"")) {
            problems.add(new RuleProblem(at, "a mailbox is a local part without @domain: " + value));
            return;
        }
        if (AddressParser.parse(value + "@" + domain, true) instanceof ParsedAddress.Invalid invalid) {
            problems.add(new RuleProblem(at, "not a mailbox (" + invalid.reason() + "): " + value));
        }
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

    /**
     * The widest trusted network accepted, per address family: an IPv4 /8 (a whole private block such as
     * 10.0.0.0/8) and an IPv6 /32 (a whole provider allocation). Anything wider is a slip (a /1 is half the
     * internet) that would turn Relay into an open relay for that part of the internet.
     */
    public static final int MIN_IPV4_PREFIX = 8;
    public static final int MIN_IPV6_PREFIX = 32;

    private static void network(String value, String at, List<RuleProblem> problems) {
        try {
            Cidr cidr = Cidr.parse(value);
            int widest = cidr.network().length == 4 ? MIN_IPV4_PREFIX : MIN_IPV6_PREFIX;
            if (cidr.prefix() == 0) {
                problems.add(new RuleProblem(at, "a /0 network would make Relay an open relay"));
            } else if (cidr.prefix() < widest) {
                problems.add(new RuleProblem(at, "/" + cidr.prefix() + " is too wide to trust: at most /" + widest
                        + " for " + (widest == MIN_IPV4_PREFIX ? "IPv4" : "IPv6")
                        + " (wider would make Relay an open relay for that part of the internet)"));
            }
        } catch (IllegalArgumentException e) {
            problems.add(new RuleProblem(at, "not an IP network (CIDR): " + value));
        }
    }

    /** {@code local@domain}, {@code @domain} or {@code domain}. */
    private static void pattern(String value, String at, List<RuleProblem> problems) {
        // a pattern, not an address (@domain and domain are no mailboxes): AddressParser does not apply
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

    /**
     * A credential NAME (the delivery service reads the secret from its own files): {@code [a-z0-9-]{1,63}}, and
     * never with {@code tls: none}. The value is not repeated in the problem: a password pasted here by mistake
     * must not end up in an API answer or a log.
     */
    private static void auth(String auth, String tls, String at, List<RuleProblem> problems) {
        if (auth == null) {
            return;
        }
        if (!CREDENTIAL_NAME.matcher(auth).matches()) {
            problems.add(new RuleProblem(at + ".auth", "must be a credential name: 1 to 63 of a-z, 0-9 and '-'"));
        }
        if ("none".equals(tls)) {
            problems.add(new RuleProblem(at + ".auth", "needs TLS: a credential is never sent in plain text "
                    + "(tls must not be none)"));
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
