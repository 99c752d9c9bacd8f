package dev.relay.delivery.tls;

import dev.relay.delivery.mtasts.MtaSts;
import dev.relay.delivery.mtasts.StsPolicy;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mx.MxResolver;
import dev.relay.delivery.mx.Resolution;
import dev.relay.delivery.mx.ResultReview;
import dev.relay.delivery.outcome.TlsDecision;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import io.vertx.core.Future;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one place that decides how much TLS a delivery demands of each host (ADR 0012). For an MX delivery, first
 * match wins:
 * <ol>
 *   <li>the entry of the recipient domain in the policy table ({@code relay.delivery.tls.policy-map},
 *       {@link TlsPolicyMap}): {@code none}, {@code may}, {@code encrypt}, {@code verify}/{@code secure} (WebPKI and
 *       the {@code match=} names, else the MX host name), {@code dane} (DANE where usable, else {@code may}),
 *       {@code dane-only} (DANE or the host is not used);</li>
 *   <li>DANE (RFC 7672), with {@code relay.delivery.dns.dnssec=true}, for a host whose MX and address records are
 *       DNSSEC-secure and which has DNSSEC-secure TLSA records: STARTTLS is mandatory and the certificate is judged
 *       against the TLSA records alone ({@link DaneTrustManager}); TLSA records that are all unusable mean
 *       mandatory TLS without authentication (RFC 7672 §2.2); a TLSA lookup that fails (SERVFAIL, timeout,
 *       oversized) means this host is not used — when no host is left the recipients are deferred {@code 4.7.5},
 *       never sent in plain text;</li>
 *   <li>MTA-STS (RFC 8461; DANE wins over it, §2), when no host got DANE: {@code enforce} keeps only the MX
 *       hosts the policy names, each with WebPKI verification of its name; {@code testing} delivers as the
 *       default and records whether enforce would have passed ({@link MtaSts}, {@link #fallback});</li>
 *   <li>the default: the route's own policy (opportunistic unless the policy service said otherwise).</li>
 * </ol>
 * For a static route (the transport map {@code relay.delivery.routes}, a route chosen by the policy service) the
 * table entry of the recipient domain, if any, replaces the route's policy; there are no DNSSEC facts about a
 * route's host (the system resolver finds it), so {@code dane} is {@code may} there and {@code dane-only} defers.
 * The global smarthost and the mailbox route keep their own policy. Every decision is counted in
 * {@code relay.delivery.tls.policy{policy,source}} and, with DNSSEC on, DANE's in {@code relay.delivery.dane}.
 * Every result of the attempt carries the decision of the host that gave it ({@link TlsDecision}: the event's
 * {@code tlsPolicy} and what TLS-RPT reports), the first host's when none answered.
 */
public final class DeliveryTlsPolicy {

    private static final Logger LOG = Logger.getLogger(DeliveryTlsPolicy.class);

    /** TLSA lookups per delivery at most: hosts beyond (the SMTP client tries five addresses) are not used. */
    static final int MAX_HOSTS = 10;

    private final TlsPolicyMap table;
    private final MxResolver dns;
    private final TransportMetrics metrics;
    private final MtaSts mtaSts;

    /** Without MTA-STS. */
    public DeliveryTlsPolicy(TlsPolicyMap table, MxResolver dns, TransportMetrics metrics) {
        this(table, dns, metrics, null);
    }

    /**
     * @param table   the policy table (may be empty)
     * @param dns     TLSA lookups; DANE only when its {@link MxResolver#dnssec()} is on
     * @param metrics where decisions are counted
     * @param mtaSts  MTA-STS for MX deliveries; null when {@code relay.delivery.mta-sts.enabled=false}
     */
    public DeliveryTlsPolicy(TlsPolicyMap table, MxResolver dns, TransportMetrics metrics, MtaSts mtaSts) {
        this.table = table;
        this.dns = dns;
        this.metrics = metrics;
        this.mtaSts = mtaSts;
    }

    /**
     * What one host of an MX delivery gets: its TLS demand, or why it is not used.
     *
     * @param undecided neither the table nor DANE decided: the route's default, unless MTA-STS decides
     */
    private record HostTls(TlsPolicy policy, CertificateCheck check, String refused, boolean undecided,
                           TlsDecision decision) {
        static HostTls of(TlsPolicy policy, CertificateCheck check, TlsDecision decision) {
            return new HostTls(policy, check, null, false, decision);
        }

        static HostTls refused(String why, TlsDecision decision) {
            return new HostTls(null, null, why, false, decision);
        }

        static HostTls undecided(TlsPolicy routeDefault, String dane) {
            return new HostTls(routeDefault, null, null, true,
                    TlsDecision.unpublished(tag(routeDefault), "default", dane, null));
        }
    }

    /**
     * The TLS demand of every target of an MX delivery to {@code domain}; never fails. A host whose TLSA lookup
     * failed (or that {@code dane-only} cannot use) is dropped; with none left the result is a {@code 451 4.7.5}.
     *
     * @param routeDefault the policy when nothing else decides (the envelope route's, else opportunistic)
     */
    public Future<Resolution> forMx(String domain, Resolution resolved, TlsPolicy routeDefault) {
        if (!(resolved instanceof Resolution.Targets found) || found.targets().isEmpty()) {
            return Future.succeededFuture(resolved);
        }
        Optional<TlsPolicyMap.Entry> entry = table.lookup(domain);
        TlsPolicyMap.Level level = entry.map(TlsPolicyMap.Entry::level).orElse(null);
        boolean daneEntry = level == TlsPolicyMap.Level.DANE || level == TlsPolicyMap.Level.DANE_ONLY;
        if (entry.isPresent() && !daneEntry) {
            HostTls fixed = fixed(entry.get());
            Map<String, HostTls> byHost = new LinkedHashMap<>();
            hosts(found).forEach(h -> {
                byHost.put(h, new HostTls(fixed.policy(), fixed.check(), null, false, fixed.decision().forHost(h)));
                metrics.tlsPolicy(level.tag(), "table");
            });
            return Future.succeededFuture(apply(domain, found, byHost));
        }
        if (!daneEntry && !dns.dnssec()) {
            return fallback(domain, found, routeDefault, null);
        }
        List<String> hosts = hosts(found);
        List<Future<HostTls>> decisions = new ArrayList<>();
        for (String host : hosts) {
            decisions.add(dane(host, portOf(found, host), found.secureHosts().contains(host), level, routeDefault));
        }
        return Future.join(new ArrayList<>(decisions)).transform(done -> {
            Map<String, HostTls> byHost = new LinkedHashMap<>();
            for (int i = 0; i < hosts.size(); i++) {
                Future<HostTls> decided = decisions.get(i);
                // dane() does not fail; if it ever did, the host is not used (defer), never sent to unchecked
                byHost.put(hosts.get(i), decided.succeeded() ? decided.result()
                        : HostTls.refused("DANE: decision for " + hosts.get(i) + " failed: " + decided.cause(),
                        new TlsDecision("dane", "dane", "lookup-failed", hosts.get(i), TlsDecision.TLSA, List.of())));
            }
            if (byHost.values().stream().allMatch(HostTls::undecided)) {
                // no host has DANE: MTA-STS may decide
                return fallback(domain, found, routeDefault, byHost.values().iterator().next().decision().dane());
            }
            byHost.values().stream().filter(HostTls::undecided)
                    .forEach(h -> metrics.tlsPolicy(tag(routeDefault), "default"));
            return Future.succeededFuture(apply(domain, found, byHost));
        });
    }

    /**
     * A static route for {@code domain}: the table entry of the domain, if any, replaces the route's own policy.
     */
    public Resolution forRoute(String domain, Resolution resolved) {
        if (!(resolved instanceof Resolution.Targets found) || found.targets().isEmpty()) {
            return resolved;
        }
        Optional<TlsPolicyMap.Entry> entry = table.lookup(domain);
        if (entry.isEmpty()) {
            metrics.tlsPolicy(tag(found.targets().get(0).tls()), "route");
            return decided(resolved, TlsDecision.unpublished(tag(found.targets().get(0).tls()), "route", null, null));
        }
        TlsPolicyMap.Level level = entry.get().level();
        metrics.tlsPolicy(level.tag(), "table");
        if (level == TlsPolicyMap.Level.DANE_ONLY) {
            return ((Resolution.Unroutable) Resolution.failure(451, "4.7.5", "TLS policy dane-only for " + domain
                    + ", but its mail goes to a static route, whose host has no DNSSEC facts here: DANE impossible"))
                    .withTls(TlsDecision.unpublished(level.tag(), "table", "insecure", null));
        }
        HostTls fixed = level == TlsPolicyMap.Level.DANE
                ? HostTls.of(TlsPolicy.OPPORTUNISTIC, null, TlsDecision.unpublished(level.tag(), "table", null, null))
                : fixed(entry.get());
        return new Resolution.Targets(found.targets().stream().map(t -> t.withTls(fixed.policy(), fixed.check()))
                .toList(), found.secureHosts(), decided(ResultReview.NONE, Map.of(), fixed.decision()));
    }

    /**
     * Neither the table nor DANE decided for any host: the domain's MTA-STS policy in force, if any
     * ({@link MtaSts#apply}: {@code enforce} keeps the matching hosts with {@link TlsPolicy#VERIFY}, or defers
     * 4.7.5), else the route's default. Never fails.
     */
    private Future<Resolution> fallback(String domain, Resolution.Targets found, TlsPolicy routeDefault,
                                        String dane) {
        Resolution.Targets plain = new Resolution.Targets(
                found.targets().stream().map(t -> t.withTls(routeDefault, null)).toList(), found.secureHosts());
        TlsDecision byDefault = TlsDecision.unpublished(tag(routeDefault), "default", dane, null);
        if (mtaSts == null) {
            countDefault(plain, routeDefault);
            return Future.succeededFuture(decided(plain, byDefault));
        }
        return mtaSts.lookup(domain).map(sts -> {
            TlsDecision decision = byDefault;
            if (sts.policy() != null && sts.policy().mode() == StsPolicy.Mode.ENFORCE) {
                hosts(plain).forEach(h -> metrics.tlsPolicy("verify", "mta-sts"));
                decision = new TlsDecision("verify", "mta-sts", dane, null, TlsDecision.STS,
                        policyStrings(sts.policy()));
            } else {
                countDefault(plain, routeDefault);
                if (sts.policy() != null && sts.policy().mode() == StsPolicy.Mode.TESTING) {
                    decision = new TlsDecision(byDefault.policy(), "default", dane, null, TlsDecision.STS,
                            policyStrings(sts.policy()));
                } else if (sts.fetchFailed()) {
                    decision = new TlsDecision(byDefault.policy(), "default", dane, null, TlsDecision.STS, List.of());
                }
            }
            return decided(mtaSts.apply(domain, sts, plain), decision);
        });
    }

    /** The lines of an MTA-STS policy as RFC 8460 §4.4 reports them ({@code policy-string}). */
    static List<String> policyStrings(StsPolicy policy) {
        List<String> lines = new ArrayList<>();
        lines.add("version: STSv1");
        lines.add("mode: " + policy.mode().tag());
        policy.mx().forEach(mx -> lines.add("mx: " + mx));
        lines.add("max_age: " + policy.maxAgeSeconds());
        return lines;
    }

    /** {@code resolved} whose results (or refusal) carry {@code decision}. */
    private static Resolution decided(Resolution resolved, TlsDecision decision) {
        if (resolved instanceof Resolution.Targets t) {
            return new Resolution.Targets(t.targets(), t.secureHosts(), decided(t.review(), Map.of(), decision));
        }
        return resolved instanceof Resolution.Unroutable u && u.tls() == null ? u.withTls(decision) : resolved;
    }

    /**
     * After {@code inner}: each result gets the decision of the host that answered it, else (nobody answered, or a
     * host without its own) {@code fallback} for the first host, which is where the attempt began. A DANE
     * decision whose certificate check failed says {@code failed}.
     */
    private static ResultReview decided(ResultReview inner, Map<String, TlsDecision> byHost, TlsDecision fallback) {
        return results -> inner.review(results).stream().map(r -> {
            String host = r.peer() == null ? null : r.peer().hostName();
            TlsDecision d = host != null && byHost.containsKey(host) ? byHost.get(host)
                    : fallback.host() == null && host != null ? fallback.forHost(host) : fallback;
            if ("verified".equals(d.dane()) && r.tlsProtocol() == null && r.detail().contains("DANE:")) {
                d = d.withDane("failed");
            }
            return r.withTlsDecision(d);
        }).toList();
    }

    private void countDefault(Resolution.Targets found, TlsPolicy routeDefault) {
        for (String ignored : hosts(found)) {
            metrics.tlsPolicy(tag(routeDefault), "default");
        }
    }

    /** DANE for one host (a table entry {@code dane}/{@code dane-only}, or DNSSEC on without an entry). */
    private Future<HostTls> dane(String host, int port, boolean secure, TlsPolicyMap.Level level,
                                 TlsPolicy routeDefault) {
        String policyTag = level == null ? "dane" : level.tag();
        String source = level == null ? "dane" : "table";
        Future<TlsaAnswer> answer = secure ? dns.tlsa(host, port)
                : Future.succeededFuture(TlsaAnswer.of(TlsaAnswer.Kind.INSECURE,
                dns.dnssec() ? "MX or address records not DNSSEC-secure" : "relay.delivery.dns.dnssec is off"));
        return answer.map(tlsa -> {
            switch (tlsa.kind()) {
                case SECURE -> {
                    List<TlsaRecord> usable = tlsa.usable();
                    List<String> strings = tlsa.records().stream().map(TlsaRecord::toString).toList();
                    if (usable.isEmpty()) { // RFC 7672 §2.2: TLS still mandatory, without authentication
                        metrics.tlsPolicy("encrypt", source);
                        return HostTls.of(TlsPolicy.REQUIRED, null,
                                new TlsDecision("encrypt", source, "unusable", host, TlsDecision.TLSA, strings));
                    }
                    metrics.tlsPolicy(policyTag, source);
                    return HostTls.of(TlsPolicy.REQUIRED, new CertificateCheck.Dane(usable),
                            new TlsDecision(policyTag, source, "verified", host, TlsDecision.TLSA, strings));
                }
                case FAILED -> {
                    metrics.dane("lookup-failed");
                    LOG.infof("TLSA lookup for %s failed (%s): that MX host is not used (RFC 7672 §2.2)", host,
                            tlsa.detail());
                    return HostTls.refused("DANE: TLSA lookup for " + host + " failed (" + tlsa.detail() + ")",
                            new TlsDecision(policyTag, source, "lookup-failed", host, TlsDecision.TLSA, List.of()));
                }
                default -> {
                    String daneResult = null;
                    if (dns.dnssec()) {
                        daneResult = tlsa.kind() == TlsaAnswer.Kind.NONE ? "no-tlsa" : "insecure";
                        metrics.dane(daneResult);
                    }
                    if (level == TlsPolicyMap.Level.DANE_ONLY) {
                        metrics.tlsPolicy(policyTag, source);
                        return HostTls.refused("DANE: TLS policy dane-only, but " + host + " has no usable "
                                + "DNSSEC-secure TLSA records (" + tlsa.detail() + ")",
                                TlsDecision.unpublished(policyTag, source, daneResult == null ? "insecure"
                                        : daneResult, host));
                    }
                    if (level == TlsPolicyMap.Level.DANE) {
                        metrics.tlsPolicy(policyTag, source);
                        return HostTls.of(TlsPolicy.OPPORTUNISTIC, null,
                                TlsDecision.unpublished(policyTag, source, daneResult, host));
                    }
                    // counted, or left to MTA-STS, by the caller
                    return HostTls.undecided(routeDefault, daneResult);
                }
            }
        });
    }

    private Resolution apply(String domain, Resolution.Targets found, Map<String, HostTls> byHost) {
        List<SmtpTarget> kept = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Map<String, TlsDecision> decisions = new LinkedHashMap<>();
        TlsDecision firstRefusal = null;
        for (SmtpTarget target : found.targets()) {
            HostTls tls = byHost.get(target.hostName());
            if (tls == null) {
                continue; // beyond MAX_HOSTS
            }
            TlsDecision decision = tls.decision().host() == null ? tls.decision().forHost(target.hostName())
                    : tls.decision();
            if (tls.refused() != null) {
                firstRefusal = firstRefusal == null ? decision : firstRefusal;
                if (!refused.contains(tls.refused())) {
                    refused.add(tls.refused());
                }
            } else {
                kept.add(target.withTls(tls.policy(), tls.check()));
                decisions.putIfAbsent(target.hostName(), decision);
            }
        }
        if (kept.isEmpty()) {
            Resolution.Unroutable none = (Resolution.Unroutable) Resolution.failure(451, "4.7.5",
                    refused.isEmpty() ? "no MX host of " + domain + " usable" : String.join("; ", refused));
            return none.withTls(firstRefusal);
        }
        return new Resolution.Targets(kept, found.secureHosts(),
                decided(ResultReview.NONE, decisions, decisions.values().iterator().next()));
    }

    private static HostTls fixed(TlsPolicyMap.Entry entry) {
        TlsDecision decision = TlsDecision.unpublished(entry.level().tag(), "table", null, null);
        return switch (entry.level()) {
            case NONE -> HostTls.of(TlsPolicy.NONE, null, decision);
            case MAY, DANE -> HostTls.of(TlsPolicy.OPPORTUNISTIC, null, decision);
            case ENCRYPT -> HostTls.of(TlsPolicy.REQUIRED, null, decision);
            case VERIFY, SECURE -> HostTls.of(TlsPolicy.VERIFY,
                    entry.match().isEmpty() ? null : new CertificateCheck.Names(entry.match()), decision);
            case DANE_ONLY -> throw new IllegalArgumentException("dane-only needs TLSA records");
        };
    }

    /** The distinct host names of the targets, in order, at most {@link #MAX_HOSTS}. */
    private static List<String> hosts(Resolution.Targets found) {
        Set<String> hosts = new LinkedHashSet<>();
        for (SmtpTarget t : found.targets()) {
            if (hosts.size() < MAX_HOSTS) {
                hosts.add(t.hostName());
            }
        }
        return List.copyOf(hosts);
    }

    private static int portOf(Resolution.Targets found, String host) {
        return found.targets().stream().filter(t -> t.hostName().equals(host)).findFirst().orElseThrow().port();
    }

    /** The table's spelling of a route policy, for the metric. */
    static String tag(TlsPolicy policy) {
        return switch (policy) {
            case NONE -> "none";
            case OPPORTUNISTIC -> "may";
            case REQUIRED -> "encrypt";
            case VERIFY -> "verify";
        };
    }
}
