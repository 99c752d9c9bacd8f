package dev.relay.common.rules;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The relay rules as data: the JSON document stored under key {@code default} in the compacted topic
 * {@code relay.rules.v1} and served by the policy admin API. Format version {@value #FORMAT_VERSION}.
 *
 * <pre>{@code
 * { "version": 1,
 *   "localDomains": ["example.test"],              // accepted from anyone (the MX role)
 *   "trustedNetworks": ["10.0.0.0/8"],             // may relay without AUTH
 *   "relayRoles": ["smtp-relay"],                  // realm roles that may relay to any domain
 *   "relayGroups": ["/mail-senders"],              // group paths that may relay to any domain
 *   "recipients": {"allow": ["@partner.example"],  // any authenticated identity may relay to these
 *                  "deny": ["@blocked.example", "ceo@example.test"]},  // refused for everyone, always
 *   "limits": {"maxRecipients": 100, "maxMessageSize": 10485760},     // defaults
 *   "grants": [ {"role": "apps", "senders": ["@apps.example.test"],
 *                "headerFrom": "free", "nullSender": true,     // default: header From bound, no MAIL FROM:<>
 *                "recipients": {"allow": ["@partner.example"], "deny": []},
 *                "limits": {"maxRecipients": 500}} ],  // or "group": "/path", "organization": "alias"
 *   "routes": [ {"domain": "partner.example", "nextHop": "mx.partner.example:25", "tls": "required"},
 *               {"domain": "*.corp.example", "nextHop": "gw.corp.example:25", "tls": "verify"} ],
 *   "smarthost": {"nextHop": "smarthost.example:587", "tls": "verify", "auth": "provider"},  // credential name
 *   "headers": [ {"strip": ["X-Originating-IP", "User-Agent"]},    // header hygiene, authenticated mail only
 *                {"role": "apps", "add": [{"name": "X-Relay-Class", "value": "bulk"}]} ],
 *   "rateLimits": [ {"name": "per-user", "per": "identity", "roles": ["apps"],     // cluster-wide, per UTC
 *                    "messages": {"minute": 10, "hour": 200}, "recipients": {"day": 5000}} ],  // window
 *   "localRecipients": [ {"domain": "example.test", "mailboxes": ["alice", "sales"], "delimiter": "+"},
 *                        {"domain": "legacy.example.test", "catchAll": true} ],  // who exists in local domains
 *   "dkim": [ {"domain": "example.test", "selectors": ["rsa2026", "ed2026"]},   // DKIM signing, first match
 *             {"domain": "apps.example", "subdomains": true, "selector": "s1", "role": "apps",
 *              "canonicalization": "relaxed/simple", "expire": "7d"} ] }
 * }</pre>
 *
 * <p>{@code localRecipients} says which mailboxes exist in each local domain, so that the MX role refuses an
 * unknown recipient at RCPT ({@code 550 5.1.1}) instead of accepting it and bouncing it later (backscatter). A
 * local domain without an entry accepts only {@code postmaster} (RFC 5321 §4.5.1); the old accept-everything
 * behaviour has to be asked for with {@code "catchAll": true}.
 *
 * Lists may be absent (empty). Patterns are {@code local@domain} (an address, case-insensitive) or
 * {@code @domain} / {@code domain} (every address of exactly that domain). {@link RuleSetValidator} checks a
 * document; {@link RelayRules#from(RuleSet)} compiles a valid one. {@code rateLimits} ({@link RateLimitRule}) are
 * counted per identity, sender domain or client address across the cluster (absent: no rate limits).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RuleSet(Integer version, List<String> localDomains, List<String> trustedNetworks,
                      List<String> relayRoles, List<String> relayGroups, RecipientLists recipients, Limits limits,
                      List<Grant> grants, List<RouteRule> routes, NextHop smarthost,
                      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<HeaderRule> headers,
                      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<RateLimitRule> rateLimits,
                      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<LocalRecipients> localRecipients,
                      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<DkimRule> dkim) {

    public static final int FORMAT_VERSION = 1;
    public static final List<String> TLS_POLICIES = List.of("none", "opportunistic", "required", "verify");

    public RuleSet {
        localDomains = list(localDomains);
        trustedNetworks = list(trustedNetworks);
        relayRoles = list(relayRoles);
        relayGroups = list(relayGroups);
        recipients = recipients == null ? RecipientLists.EMPTY : recipients;
        limits = limits == null ? Limits.NONE : limits;
        grants = list(grants);
        routes = list(routes);
        headers = list(headers);
        rateLimits = list(rateLimits);
        localRecipients = list(localRecipients);
        dkim = list(dkim);
    }

    /** A rule set without DKIM signing rules. */
    public RuleSet(Integer version, List<String> localDomains, List<String> trustedNetworks, List<String> relayRoles,
                   List<String> relayGroups, RecipientLists recipients, Limits limits, List<Grant> grants,
                   List<RouteRule> routes, NextHop smarthost, List<HeaderRule> headers,
                   List<RateLimitRule> rateLimits, List<LocalRecipients> localRecipients) {
        this(version, localDomains, trustedNetworks, relayRoles, relayGroups, recipients, limits, grants, routes,
                smarthost, headers, rateLimits, localRecipients, null);
    }

    /** The same rule set with these DKIM signing rules. */
    public RuleSet withDkim(List<DkimRule> rules) {
        return new RuleSet(version, localDomains, trustedNetworks, relayRoles, relayGroups, recipients, limits, grants,
                routes, smarthost, headers, rateLimits, localRecipients, rules);
    }

    /** A rule set without recipient sources for its local domains (they accept only postmaster). */
    public RuleSet(Integer version, List<String> localDomains, List<String> trustedNetworks, List<String> relayRoles,
                   List<String> relayGroups, RecipientLists recipients, Limits limits, List<Grant> grants,
                   List<RouteRule> routes, NextHop smarthost, List<HeaderRule> headers,
                   List<RateLimitRule> rateLimits) {
        this(version, localDomains, trustedNetworks, relayRoles, relayGroups, recipients, limits, grants, routes,
                smarthost, headers, rateLimits, null);
    }

    /** A rule set without rate limits. */
    public RuleSet(Integer version, List<String> localDomains, List<String> trustedNetworks, List<String> relayRoles,
                   List<String> relayGroups, RecipientLists recipients, Limits limits, List<Grant> grants,
                   List<RouteRule> routes, NextHop smarthost, List<HeaderRule> headers) {
        this(version, localDomains, trustedNetworks, relayRoles, relayGroups, recipients, limits, grants, routes,
                smarthost, headers, null);
    }

    /** A rule set without header hygiene and rate limits. */
    public RuleSet(Integer version, List<String> localDomains, List<String> trustedNetworks, List<String> relayRoles,
                   List<String> relayGroups, RecipientLists recipients, Limits limits, List<Grant> grants,
                   List<RouteRule> routes, NextHop smarthost) {
        this(version, localDomains, trustedNetworks, relayRoles, relayGroups, recipients, limits, grants, routes,
                smarthost, null, null);
    }

    /**
     * Recipient patterns. {@code deny} refuses matching recipients for everyone (even local domains);
     * {@code allow} lets an identity relay to matching recipients without a relay role (globally: any
     * authenticated identity; in a grant: identities holding that role or group). Never the unauthenticated.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RecipientLists(List<String> allow, List<String> deny) {
        public static final RecipientLists EMPTY = new RecipientLists(null, null);

        public RecipientLists {
            allow = list(allow);
            deny = list(deny);
        }
    }

    /** Per-message limits; null means "not set here" (falls back to the global limits, then the service). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Limits(Integer maxRecipients, Long maxMessageSize) {
        public static final Limits NONE = new Limits(null, null);
    }

    /**
     * What holders of one realm role, members of one group or members of one Keycloak organisation (by alias;
     * exactly one of the three) may additionally do.
     *
     * @param headerFrom {@code bound} (absent: the default) or {@code free}: whether every address of the header
     *                   {@code From:} of their authenticated submissions must be one they may use as MAIL FROM
     *                   (see {@link RelayRules#headerFromBound}); {@code free} for e.g. list servers or
     *                   applications that send on behalf of others
     * @param nullSender whether they may submit with the null reverse-path {@code MAIL FROM:<>} (absent: no;
     *                   an authenticated {@code <>} would otherwise bypass sender binding)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Grant(String role, String group, List<String> senders, RecipientLists recipients, Limits limits,
                        String headerFrom, Boolean nullSender, String organization) {
        public static final String HEADER_FROM_BOUND = "bound";
        public static final String HEADER_FROM_FREE = "free";

        public Grant {
            senders = list(senders);
            recipients = recipients == null ? RecipientLists.EMPTY : recipients;
            limits = limits == null ? Limits.NONE : limits;
        }

        /** A grant for a role or group. */
        public Grant(String role, String group, List<String> senders, RecipientLists recipients, Limits limits,
                     String headerFrom, Boolean nullSender) {
            this(role, group, senders, recipients, limits, headerFrom, nullSender, null);
        }

        /** A grant without sender-binding settings (header From bound, no null sender). */
        public Grant(String role, String group, List<String> senders, RecipientLists recipients, Limits limits) {
            this(role, group, senders, recipients, limits, null, null);
        }
    }

    /**
     * A static route: {@code domain} or {@code *.domain} (its subdomains) to {@code host:port}; with {@code auth}
     * (a credential NAME, {@code [a-z0-9-]{1,63}}) the delivery service authenticates there with the credential of
     * that name from its credentials directory, only over TLS (at least {@code required}).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RouteRule(String domain, String nextHop, String tls, String auth) {

        /** A route without AUTH. */
        public RouteRule(String domain, String nextHop, String tls) {
            this(domain, nextHop, tls, null);
        }
    }

    /**
     * A next hop {@code host:port} with its TLS policy (none, opportunistic, required, verify) and optionally the
     * name of the credential to AUTH with there ({@code auth}, as for {@link RouteRule}).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record NextHop(String nextHop, String tls, String auth) {

        /** A next hop without AUTH. */
        public NextHop(String nextHop, String tls) {
            this(nextHop, tls, null);
        }
    }

    // --- header hygiene -------------------------------------------------------------------------------------

    /**
     * Header fields the policy service removes ({@code strip}, by name, every instance) from and adds ({@code add},
     * prepended) to mail submitted by an authenticated identity, before it goes out. Applies to every
     * authenticated identity, or with {@code role} or {@code group} (at most one) to its holders only. Checked by
     * {@link RuleSetValidator} (no trace, originator or MIME fields; no CR/LF), applied by the policy service's
     * {@code HeaderEditor}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HeaderRule(String role, String group, List<String> strip, List<HeaderField> add) {
        public HeaderRule {
            strip = list(strip);
            add = list(add);
        }
    }

    /** One header field to add: its name and its (unfolded, ASCII) value. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HeaderField(String name, String value) {
    }

    // --- recipient validation --------------------------------------------------------------------------------

    /**
     * The recipient source of one local domain: the mailboxes (local parts, compared case-insensitively, quotes
     * removed) that exist there, or {@code catchAll} to accept every local part (the next hop then decides, and a
     * refusal there becomes a bounce: only for domains whose next hop is known to accept everything). With a
     * {@code delimiter} (e.g. {@code +}), {@code alice+news} is accepted when {@code alice} is listed.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record LocalRecipients(String domain, List<String> mailboxes, Boolean catchAll, String delimiter) {
        public LocalRecipients {
            mailboxes = list(mailboxes);
        }

        public boolean acceptsAll() {
            return Boolean.TRUE.equals(catchAll);
        }

        /**
         * The recipient sources of the configured seed ({@code relay.rules.local-recipients} and
         * {@code catch-all-domains}): one entry per domain with its mailboxes in the order given, catch-all domains
         * after. An address outside the local domains makes the seed invalid (named by the validator).
         */
        public static List<LocalRecipients> seed(List<String> addresses, List<String> catchAllDomains) {
            Map<String, List<String>> byDomain = new LinkedHashMap<>();
            for (String address : addresses) {
                // configuration text, kept even when it is no address so that the validator can name it: no parser
                int at = address.lastIndexOf('@');
                String domain = at < 0 ? "" : address.substring(at + 1).trim().toLowerCase(Locale.ROOT);
                byDomain.computeIfAbsent(domain, d -> new ArrayList<>())
                        .add(at < 0 ? address.trim() : address.substring(0, at).trim());
            }
            List<LocalRecipients> out = new ArrayList<>();
            byDomain.forEach((domain, mailboxes) -> out.add(new LocalRecipients(domain, mailboxes, null, null)));
            catchAllDomains.forEach(domain -> out.add(new LocalRecipients(domain.trim(), null, true, null)));
            return out;
        }
    }

    // --- DKIM signing ----------------------------------------------------------------------------------------

    /**
     * Which outbound mail the policy service signs with DKIM (RFC 6376; Ed25519 per RFC 8463), and how. The first
     * rule that matches a message decides; a message no rule matches goes out unsigned. Only mail from a sender
     * Relay vouches for (authenticated, or from a trusted network) is signed: mail received as an MX is never.
     *
     * @param domain           the header {@code From:} domain this rule signs for, and the signing domain {@code d=}
     *                         (aligned with From for DMARC)
     * @param subdomains       true: also a From in a subdomain of {@code domain} (still signed as {@code domain})
     * @param selector         the selector to sign with (key file {@code <keys-dir>/<domain>/<selector>.pem})
     * @param selectors        instead of {@code selector}: two selectors, one signature each (e.g. RSA and Ed25519)
     * @param role             only for holders of this realm role (at most one of role, group and organization)
     * @param group            only for members of this group
     * @param organization     only for members of this Keycloak organisation (alias): DKIM keys per organisation
     * @param headers          the header fields to sign instead of the default list (must contain From)
     * @param canonicalization {@code relaxed/relaxed} (default), {@code relaxed/simple}, {@code simple/relaxed} or
     *                         {@code simple/simple}
     * @param expire           signature lifetime for the {@code x=} tag, e.g. {@code 7d}, {@code 12h}; absent: none
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DkimRule(String domain, Boolean subdomains, String selector, List<String> selectors, String role,
                           String group, List<String> headers, String canonicalization, String expire,
                           String organization) {
        public DkimRule {
            selectors = selectors == null ? null : Collections.unmodifiableList(new ArrayList<>(selectors));
            headers = headers == null ? null : Collections.unmodifiableList(new ArrayList<>(headers));
        }

        /** A rule selecting by role or group only. */
        public DkimRule(String domain, Boolean subdomains, String selector, List<String> selectors, String role,
                        String group, List<String> headers, String canonicalization, String expire) {
            this(domain, subdomains, selector, selectors, role, group, headers, canonicalization, expire, null);
        }

        /** The selectors to sign with: {@code selector}, or the {@code selectors} list. */
        public List<String> allSelectors() {
            return selector != null ? List.of(selector) : selectors == null ? List.of() : selectors;
        }

        public boolean includesSubdomains() {
            return Boolean.TRUE.equals(subdomains);
        }
    }

    // ----------------------------------------------------------------------------------------------------------

    /** Null-tolerant unmodifiable copy: null elements survive so that the validator can name them. */
    private static <T> List<T> list(List<T> in) {
        return in == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(in));
    }
}
