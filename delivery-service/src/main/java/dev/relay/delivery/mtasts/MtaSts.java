package dev.relay.delivery.mtasts;

import dev.relay.delivery.mx.MxResolver;
import dev.relay.delivery.mx.Resolution;
import dev.relay.delivery.mx.ResultReview;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.MtaStsCheck;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * MTA-STS for the MX deliveries of one instance (RFC 8461). Two steps, so that the class deciding the TLS of an MX
 * delivery (table, DANE, MTA-STS, opportunistic: DANE wins over MTA-STS, RFC 8461 §2) can call the second only when
 * nothing before it applies:
 * <ol>
 *   <li>{@link #lookup}: the policy in force for a domain. The {@code _mta-sts} TXT record comes through the
 *       delivery's DNS client and cache; a cached policy whose TXT id is unchanged and whose max_age has not passed
 *       is used without a fetch; else the policy is fetched ({@link PolicyFetcher}), one fetch per domain and id at
 *       a time however many deliveries ask. When the record is missing, malformed or several, when DNS fails or
 *       the fetch fails, an unexpired cached policy stays in force (RFC 8461 §5.1); without one there is no policy.
 *       Never fails.</li>
 *   <li>{@link #apply}: what the policy does to the domain's MX targets. {@code enforce}: only targets whose MX host
 *       matches the policy, each with {@link TlsPolicy#VERIFY} (WebPKI, the MX host name); none matching defers
 *       {@code 451 4.7.5 MTA-STS policy of <domain>: ...}, and so does a certificate that does not verify (the
 *       review after the attempt): never a bounce, never plain text. {@code testing}: the targets as they were, and
 *       the review records whether enforce would have passed (metric, event field). {@code none}: nothing.</li>
 * </ol>
 */
public final class MtaSts {

    private static final Logger LOG = Logger.getLogger(MtaSts.class);

    /** Policy fetches in flight at most per instance; beyond, a lookup counts as a failed fetch. */
    static final int MAX_FETCHES_IN_FLIGHT = 256;

    /**
     * The policy in force for a domain.
     *
     * @param policy      null when the domain has none (or none could be had)
     * @param fetchFailed a record was published, its policy could not be fetched and none was cached
     */
    public record InForce(StsPolicy policy, boolean fetchFailed) {

        public static final InForce NONE = new InForce(null, false);
    }

    private final MxResolver dns;
    private final PolicyFetcher fetcher;
    private final PolicyCache cache;
    private final WebPkiTrust trust;
    private final MtaStsMetrics metrics;
    private final Map<String, Future<PolicyFetcher.Fetched>> inFlight = new HashMap<>();

    public MtaSts(MxResolver dns, PolicyFetcher fetcher, PolicyCache cache, WebPkiTrust trust,
                  MtaStsMetrics metrics) {
        this.dns = dns;
        this.fetcher = fetcher;
        this.cache = cache;
        this.trust = trust;
        this.metrics = metrics;
        metrics.watchCache(cache::size);
    }

    /** Step 1: the policy in force for {@code domain} (lower case). Never fails. */
    public Future<InForce> lookup(String domain) {
        return dns.txt("_mta-sts." + domain).transform(txt -> {
            PolicyCache.Entry cached = cache.get(domain);
            if (txt.failed()) {
                LOG.debugf("MTA-STS record of %s not looked up (%s)%s", domain, txt.cause().getMessage(),
                        cached == null ? "" : ": the cached policy stays in force");
                return Future.succeededFuture(cached == null ? InForce.NONE : new InForce(cached.policy(), false));
            }
            StsRecord record = StsRecord.of(txt.result());
            if (!(record instanceof StsRecord.Valid valid)) {
                if (record instanceof StsRecord.Invalid invalid) {
                    LOG.infof("MTA-STS record of %s ignored: %s%s", domain, invalid.why(),
                            cached == null ? "" : "; the cached policy stays in force until it expires");
                }
                return Future.succeededFuture(cached == null ? InForce.NONE : new InForce(cached.policy(), false));
            }
            if (cached != null && cached.id().equals(valid.id())) {
                return Future.succeededFuture(new InForce(cached.policy(), false));
            }
            return fetchOnce(domain, valid.id()).map(fetched -> {
                if (fetched instanceof PolicyFetcher.Fetched.Good good) {
                    cache.put(domain, valid.id(), good.policy());
                    return new InForce(good.policy(), false);
                }
                String why = ((PolicyFetcher.Fetched.Failed) fetched).why();
                LOG.warnf("MTA-STS policy of %s (id %s) not fetched: %s%s", domain, valid.id(), why,
                        cached == null ? "; delivering without a policy" : "; the cached policy stays in force");
                return cached == null ? new InForce(null, true) : new InForce(cached.policy(), false);
            });
        });
    }

    /** One fetch per domain and record id at a time; every lookup meanwhile shares it. */
    private Future<PolicyFetcher.Fetched> fetchOnce(String domain, String id) {
        String key = domain + " " + id;
        Promise<PolicyFetcher.Fetched> mine;
        synchronized (inFlight) {
            Future<PolicyFetcher.Fetched> running = inFlight.get(key);
            if (running != null) {
                return running;
            }
            if (inFlight.size() >= MAX_FETCHES_IN_FLIGHT) {
                metrics.fetched(MtaStsMetrics.FetchResult.BUSY);
                return Future.succeededFuture(new PolicyFetcher.Fetched.Failed(
                        MAX_FETCHES_IN_FLIGHT + " policy fetches already in flight"));
            }
            mine = Promise.promise();
            inFlight.put(key, mine.future());
        }
        fetcher.fetch(domain).onComplete(done -> {
            synchronized (inFlight) {
                inFlight.remove(key);
            }
            PolicyFetcher.Fetched fetched = done.succeeded() ? done.result()
                    : new PolicyFetcher.Fetched.Failed(String.valueOf(done.cause()));
            metrics.fetched(fetched instanceof PolicyFetcher.Fetched.Good ? MtaStsMetrics.FetchResult.OK
                    : MtaStsMetrics.FetchResult.FAILED);
            mine.complete(fetched);
        });
        return mine.future();
    }

    /** Step 2: the targets of {@code domain} under its policy {@code sts}. Pure, apart from counting. */
    public Resolution apply(String domain, InForce sts, Resolution resolved) {
        if (sts.policy() == null) {
            if (sts.fetchFailed()) {
                metrics.attempt("none", "fetch-failed");
                return annotate(resolved, new MtaStsCheck("none", "fetch-failed"));
            }
            return resolved;
        }
        StsPolicy policy = sts.policy();
        if (policy.mode() == StsPolicy.Mode.NONE) {
            metrics.attempt("none", "pass");
            return resolved;
        }
        if (!(resolved instanceof Resolution.Targets found)) {
            return resolved; // no MX to judge (DNS trouble, null MX...): that outcome stands
        }
        List<SmtpTarget> matching = found.targets().stream().filter(t -> policy.matches(t.hostName())).toList();
        if (policy.mode() == StsPolicy.Mode.TESTING) {
            return new Resolution.Targets(found.targets(), results -> testing(domain, policy, matching, results));
        }
        if (matching.isEmpty()) {
            metrics.attempt("enforce", "fail");
            String hosts = String.join(", ", found.targets().stream().map(SmtpTarget::hostName).distinct().toList());
            LOG.warnf("MTA-STS policy of %s (enforce): no MX host matches %s (MX: %s); deferring", domain,
                    policy.mx(), hosts);
            return Resolution.failure(451, "4.7.5", "MTA-STS policy of " + domain + ": no MX host matches the "
                    + "policy (MX " + hosts + ")");
        }
        List<SmtpTarget> verified = matching.stream()
                .map(t -> new SmtpTarget(t.hostName(), t.address(), t.port(), TlsPolicy.VERIFY)).toList();
        return new Resolution.Targets(verified, results -> enforced(domain, results));
    }

    /**
     * Enforce: a server answered over verified TLS (the connection demanded it): pass. No server answered and at
     * least one failed at STARTTLS or the handshake: the policy's failure, {@code 4.7.5}. Other failures
     * (connection refused, timeouts) stay what they are and are not counted.
     */
    private List<RecipientResult> enforced(String domain, List<RecipientResult> results) {
        boolean answered = results.stream().anyMatch(r -> r.peer() != null && r.tlsProtocol() != null);
        if (answered) {
            metrics.attempt("enforce", "pass");
            return mark(results, new MtaStsCheck("enforce", "pass"));
        }
        boolean tlsFailed = results.stream().anyMatch(r -> r.status() == DeliveryStatus.TRANSIENT
                && (r.detail().contains("TLS handshake failed") || r.detail().contains("STARTTLS")));
        if (!tlsFailed) {
            return results;
        }
        metrics.attempt("enforce", "fail");
        MtaStsCheck fail = new MtaStsCheck("enforce", "fail");
        return results.stream().map(r -> {
            String why = r.diagnostic().text();
            String prefix = r.diagnostic().code() + " " + r.diagnostic().enhancedStatus() + " ";
            why = why.startsWith(prefix) ? why.substring(prefix.length()) : why;
            LOG.debugf("MTA-STS policy of %s (enforce) not met: %s", domain, why);
            return r.withDiagnostic(Diagnostic.ours(Phase.CONNECT, 451, "4.7.5", "MTA-STS policy of " + domain
                    + ": " + why)).withMtaSts(fail);
        }).toList();
    }

    /**
     * Testing: delivered as without a policy; enforce would have passed when the server that answered is a
     * matching MX host and its session's certificate verifies for that name. When nobody answered, only a list of
     * MX hosts none of which matches is a known failure.
     */
    private List<RecipientResult> testing(String domain, StsPolicy policy, List<SmtpTarget> matching,
                                          List<RecipientResult> results) {
        RecipientResult answered = results.stream().filter(r -> r.peer() != null).findFirst().orElse(null);
        String result;
        if (answered != null) {
            String host = answered.peer().hostName();
            boolean pass = answered.tlsProtocol() != null && policy.matches(host)
                    && trust.verifies(answered.peerCertificates().chain(), host);
            result = pass ? "pass" : "fail";
        } else if (matching.isEmpty()) {
            result = "fail";
        } else {
            return results;
        }
        metrics.attempt("testing", result);
        if (result.equals("fail")) {
            LOG.infof("MTA-STS policy of %s (testing) would have failed this attempt%s", domain,
                    answered == null ? ": no MX host matches" : " at " + answered.remote());
        }
        return mark(results, new MtaStsCheck("testing", result));
    }

    private static Resolution annotate(Resolution resolved, MtaStsCheck check) {
        if (resolved instanceof Resolution.Targets found) {
            return new Resolution.Targets(found.targets(), results -> mark(results, check));
        }
        return resolved;
    }

    private static List<RecipientResult> mark(List<RecipientResult> results, MtaStsCheck check) {
        return results.stream().map(r -> r.withMtaSts(check)).toList();
    }

    public Future<Void> close() {
        return fetcher.close();
    }
}
