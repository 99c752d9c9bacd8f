package dev.relay.delivery.mx;

import dev.relay.common.net.IpLiteral;
import dev.relay.delivery.metrics.TransportMetrics.DnsResult;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.transport.OwnName;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import dev.relay.delivery.tls.TlsaAnswer;
import dev.relay.delivery.tls.TlsaRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DefaultDnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsException;
import io.vertx.core.dns.DnsResponseCode;
import org.jboss.logging.Logger;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * DNS for delivery: MX of the recipient domain, then A and AAAA of each exchange host (RFC 5321 §5.1). Asks the
 * configured servers in order and moves to the next one on anything but a definite answer. NXDOMAIN is definite;
 * SERVFAIL and timeouts are not. Definite answers, NXDOMAIN and NODATA included, are kept in a {@link DnsCache}
 * for their TTL; a cached MX answer is shuffled anew for every resolution. Every lookup that asks the servers is
 * counted by record type and result in {@link TransportMetrics}, every answer taken from the cache as a cache hit.
 * <p>
 * Queries go through {@link NettyDnsClient} rather than Vert.x's {@code DnsClient}, which does not expose the
 * TTLs of A and AAAA records (ADR 0006).
 * <p>
 * With {@code dnssec} (ADR 0012) the configured resolver is trusted to validate DNSSEC, and its AD bit says which
 * answers are secure: the {@link Resolution.Targets#secureHosts()} are the MX hosts whose MX RRset (or, without MX,
 * the NODATA answer) and A/AAAA records were all validated, and {@link #tlsa} looks up their TLSA records
 * (RFC 7672 §2.2). TLSA answers are bounded ({@value #MAX_TLSA_RECORDS} records, {@value #MAX_TLSA_OCTETS} octets
 * of data) and cached like the others; CNAMEs are not followed (a TLSA name that is an alias counts as none).
 */
public final class MxResolver {

    private static final Logger LOG = Logger.getLogger(MxResolver.class);

    private final NettyDnsClient dns;
    private final List<InetSocketAddress> servers;
    private final TransportMetrics metrics;
    private final Random random;
    private final DnsCache cache;
    private final OwnName self;
    private final boolean dnssec;

    /** The most TLSA records one answer may hold; more is a malformed answer (the host is then not used). */
    public static final int MAX_TLSA_RECORDS = 32;
    /** The most octets of association data one TLSA answer may hold together (a full certificate is ~1-2 KiB). */
    public static final int MAX_TLSA_OCTETS = 8192;

    /** The addresses of one host and whether the resolver validated all of them. */
    private record HostAddresses(List<String> ips, boolean secure) {
    }

    /** Without a cache and with metrics of its own. */
    public MxResolver(Vertx vertx, List<DnsServers.Server> servers, Duration queryTimeout) {
        this(vertx, servers, queryTimeout, new TransportMetrics(new SimpleMeterRegistry()), null);
    }

    /** Without a cache. */
    public MxResolver(Vertx vertx, List<DnsServers.Server> servers, Duration queryTimeout, TransportMetrics metrics,
                      Random random) {
        this(vertx, servers, queryTimeout, metrics, random, DnsCache.disabled());
    }

    /**
     * @param random shuffles MX hosts of equal preference; null for a thread-local random (tests pass a seeded
     *               one)
     * @param cache  keeps answers for their TTL; {@link DnsCache#disabled()} for none
     */
    public MxResolver(Vertx vertx, List<DnsServers.Server> servers, Duration queryTimeout, TransportMetrics metrics,
                      Random random, DnsCache cache) {
        this(vertx, servers, queryTimeout, metrics, random, cache, new OwnName(null));
    }

    /**
     * @param self our own name ({@code relay.delivery.helo-name}): an MX list that leads back to it bounces
     *             {@code 5.4.6} without a connection ({@link MxPlan.LoopsBack})
     */
    public MxResolver(Vertx vertx, List<DnsServers.Server> servers, Duration queryTimeout, TransportMetrics metrics,
                      Random random, DnsCache cache, OwnName self) {
        this(vertx, servers, queryTimeout, metrics, random, cache, self, false);
    }

    /**
     * @param dnssec the resolvers validate DNSSEC and their AD bit is trusted ({@code relay.delivery.dns.dnssec}):
     *               queries ask for it, secure hosts are reported and TLSA lookups are possible
     */
    public MxResolver(Vertx vertx, List<DnsServers.Server> servers, Duration queryTimeout, TransportMetrics metrics,
                      Random random, DnsCache cache, OwnName self, boolean dnssec) {
        this.self = self;
        this.dnssec = dnssec;
        this.metrics = metrics;
        this.random = random;
        this.cache = cache;
        List<InetSocketAddress> list = new ArrayList<>();
        for (DnsServers.Server server : servers) {
            InetSocketAddress address = new InetSocketAddress(server.host(), server.port());
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("cannot resolve DNS server " + server.host());
            }
            list.add(address);
        }
        if (list.isEmpty()) { // as Vert.x's DnsClient without a host: the first of the platform's resolvers
            list.add(DefaultDnsServerAddressStreamProvider.defaultAddressList().get(0));
        }
        this.servers = List.copyOf(list);
        this.dns = new NettyDnsClient(vertx, this.servers, queryTimeout, dnssec);
    }

    /** Whether the resolvers' AD bit is trusted ({@code relay.delivery.dns.dnssec}). */
    public boolean dnssec() {
        return dnssec;
    }

    /**
     * The TLSA records of {@code _port._tcp.host} (RFC 7672 §2.2.2). Never fails: SERVFAIL, timeouts and malformed
     * or oversized answers are {@link TlsaAnswer.Kind#FAILED}. Without {@code dnssec} every answer is insecure.
     */
    public Future<TlsaAnswer> tlsa(String host, int port) {
        String name = "_" + port + "._tcp." + host;
        return this.<TlsaRecord>lookup("tlsa", DnsRecordType.TLSA, name, NettyDnsClient::tlsa, MAX_TLSA_RECORDS,
                MAX_TLSA_OCTETS).transform(done -> {
            if (done.failed()) {
                return Future.succeededFuture(TlsaAnswer.of(TlsaAnswer.Kind.FAILED, describe(done.cause())));
            }
            DnsAnswer<TlsaRecord> answer = done.result();
            if (answer.records().isEmpty()) {
                return Future.succeededFuture(TlsaAnswer.of(TlsaAnswer.Kind.NONE,
                        answer.nxDomain() ? "NXDOMAIN" : "NODATA"));
            }
            if (!dnssec || !answer.authenticated()) {
                return Future.succeededFuture(TlsaAnswer.of(TlsaAnswer.Kind.INSECURE, "not DNSSEC-validated"));
            }
            return Future.succeededFuture(TlsaAnswer.secure(answer.records()));
        });
    }

    /** The addresses to try for mail to {@code domain}, most preferred first, on {@code port}. */
    public Future<Resolution> resolve(String domain, int port, TlsPolicy tls) {
        return lookup("mx", DnsRecordType.MX, domain, NettyDnsClient::mx).transform(answer -> {
            if (answer.failed()) {
                return Future.succeededFuture(Resolution.failure(451, "4.4.3", "MX lookup for " + domain
                        + " failed: " + describe(answer.cause())));
            }
            if (answer.result().nxDomain()) {
                return Future.succeededFuture(
                        Resolution.failure(550, "5.1.2", "domain " + domain + " does not exist"));
            }
            // in preference order, as Vert.x's DnsClient gave them: the seeded shuffle of the tests depends on it
            List<Mx> records = answer.result().records().stream().sorted(Comparator.comparingInt(Mx::preference))
                    .toList();
            MxPlan plan = MxPlan.of(domain, records, random == null ? ThreadLocalRandom.current() : random, self);
            if (plan instanceof MxPlan.LoopsBack loop) {
                metrics.loopDetected(TransportMetrics.LoopSeen.MX);
                LOG.warnf("MX %s of %s is this relay itself (%s): bouncing, mail for it would loop", loop.host(),
                        domain, self);
                return Future.succeededFuture(Resolution.failure(554, "5.4.6", "mail for " + domain
                        + " loops back to myself (MX " + loop.host() + " is our own name)"));
            }
            if (plan instanceof MxPlan.NullMx) {
                return Future.succeededFuture(
                        Resolution.failure(556, "5.1.10", "domain " + domain + " accepts no mail (null MX)"));
            }
            boolean mxSecure = dnssec && answer.result().authenticated();
            if (plan instanceof MxPlan.Implicit) {
                return implicitMx(domain, port, tls, mxSecure);
            }
            return exchangers(domain, ((MxPlan.Exchangers) plan).hosts(), port, tls, mxSecure);
        });
    }

    /**
     * A and AAAA of a host name, IPv4 first; an IP literal ({@link IpLiteral}: never a hex-looking name such as
     * {@code f00d.cafe}) is returned in canonical form without a lookup. NXDOMAIN gives no addresses.
     */
    public Future<List<String>> addresses(String host) {
        return addressesOf(host).map(HostAddresses::ips);
    }

    /** As {@link #addresses}, and whether both answers (A and AAAA) were DNSSEC-validated. */
    private Future<HostAddresses> addressesOf(String host) {
        byte[] literal = IpLiteral.parse(host);
        if (literal != null) {
            return Future.succeededFuture(new HostAddresses(List.of(IpLiteral.format(literal)), false));
        }
        Future<DnsAnswer<String>> a = lookup("a", DnsRecordType.A, host, NettyDnsClient::address);
        Future<DnsAnswer<String>> aaaa = lookup("aaaa", DnsRecordType.AAAA, host, NettyDnsClient::address);
        return Future.all(a, aaaa).transform(both -> {
            List<String> all = new ArrayList<>();
            if (a.succeeded()) {
                all.addAll(a.result().records());
            }
            if (aaaa.succeeded()) {
                all.addAll(aaaa.result().records());
            }
            if (all.isEmpty() && (a.failed() || aaaa.failed())) {
                return Future.failedFuture(a.failed() ? a.cause() : aaaa.cause());
            }
            boolean secure = dnssec && a.succeeded() && aaaa.succeeded() && a.result().authenticated()
                    && aaaa.result().authenticated();
            return Future.succeededFuture(new HostAddresses(all, secure));
        });
    }

    /** TXT records at most kept from one answer: more than this is no sane policy record set. */
    static final int MAX_TXT_RECORDS = 64;

    /**
     * The TXT records of {@code name} through the delivery's own resolvers and cache (MTA-STS discovery, RFC 8461
     * §3.1; TLS-RPT). Each record's character-strings are joined. NXDOMAIN and NODATA give an empty list; SERVFAIL
     * and timeouts fail the future. Bounded: the DNS message is at most 64 KiB, and at most
     * {@value #MAX_TXT_RECORDS} records are returned.
     */
    public Future<List<String>> txt(String name) {
        return lookup("txt", DnsRecordType.TXT, name, NettyDnsClient::txt).map(answer -> {
            List<String> records = answer.records();
            return records.size() > MAX_TXT_RECORDS ? records.subList(0, MAX_TXT_RECORDS) : records;
        });
    }

    public Future<Void> close() {
        return dns.close();
    }

    private Future<Resolution> implicitMx(String domain, int port, TlsPolicy tls, boolean mxSecure) {
        return addressesOf(domain).transform(found -> {
            if (found.failed()) {
                return Future.succeededFuture(Resolution.failure(451, "4.4.3",
                        "address lookup for " + domain + " failed: " + describe(found.cause())));
            }
            if (found.result().ips().isEmpty()) {
                return Future.succeededFuture(Resolution.failure(550, "5.1.2",
                        "domain " + domain + " has no MX and no address"));
            }
            return Future.succeededFuture(new Resolution.Targets(
                    found.result().ips().stream().map(ip -> new SmtpTarget(domain, ip, port, tls)).toList(),
                    mxSecure && found.result().secure() ? Set.of(domain) : Set.of()));
        });
    }

    private Future<Resolution> exchangers(String domain, List<String> hosts, int port, TlsPolicy tls,
                                          boolean mxSecure) {
        List<Future<HostAddresses>> lookups = hosts.stream().map(this::addressesOf).toList();
        return Future.join(new ArrayList<>(lookups)).transform(done -> {
            List<SmtpTarget> targets = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            Set<String> secure = new HashSet<>();
            for (int i = 0; i < hosts.size(); i++) {
                Future<HostAddresses> lookup = lookups.get(i);
                if (lookup.succeeded()) {
                    for (String ip : lookup.result().ips()) {
                        targets.add(new SmtpTarget(hosts.get(i), ip, port, tls));
                    }
                    if (mxSecure && lookup.result().secure()) {
                        secure.add(hosts.get(i));
                    }
                } else {
                    failures.add(hosts.get(i) + ": " + describe(lookup.cause()));
                }
            }
            if (targets.isEmpty()) {
                // MX hosts that do not resolve may be a DNS hiccup or a broken zone: not sure, so transient.
                return Future.succeededFuture(Resolution.failure(451, "4.4.4", "no address for the MX hosts of "
                        + domain + (failures.isEmpty() ? "" : " (" + String.join("; ", failures) + ")")));
            }
            return Future.succeededFuture(new Resolution.Targets(targets, secure));
        });
    }

    /** The cached answer, or the servers': then kept for its TTL. */
    private <T> Future<DnsAnswer<T>> lookup(String type, DnsRecordType question, String name,
                                            Function<DnsRecord, T> decoder) {
        return lookup(type, question, name, decoder, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /** The cached answer, or the servers' (bounded to {@code maxRecords}, {@code maxOctets}): then cached. */
    private <T> Future<DnsAnswer<T>> lookup(String type, DnsRecordType question, String name,
                                            Function<DnsRecord, T> decoder, int maxRecords, int maxOctets) {
        DnsAnswer<T> cached = cache.get(type, name);
        if (cached != null) {
            metrics.dnsCache(type, true);
            return Future.succeededFuture(cached);
        }
        if (cache.enabled()) {
            metrics.dnsCache(type, false);
        }
        return query(type, server -> dns.query(server, question, name, decoder, maxRecords, maxOctets))
                .onSuccess(answer -> cache.put(type, name, answer));
    }

    /** Asks the servers in order until one gives a definite answer (records, NODATA or NXDOMAIN). */
    private <T> Future<DnsAnswer<T>> query(String type, Function<InetSocketAddress, Future<DnsAnswer<T>>> question) {
        Future<DnsAnswer<T>> chain = question.apply(servers.get(0));
        for (int i = 1; i < servers.size(); i++) {
            InetSocketAddress next = servers.get(i);
            chain = chain.recover(err -> question.apply(next));
        }
        return chain.onComplete(done -> metrics.dnsLookup(type, done.succeeded() ? done.result().result()
                : result(done.cause())));
    }

    private static DnsResult result(Throwable err) {
        if (err instanceof DnsException dns) {
            return dns.code() == DnsResponseCode.NXDOMAIN ? DnsResult.NXDOMAIN
                    : dns.code() == DnsResponseCode.SERVFAIL ? DnsResult.SERVFAIL : DnsResult.ERROR;
        }
        if (err instanceof DnsNameResolverTimeoutException) {
            return DnsResult.TIMEOUT;
        }
        String text = String.valueOf(err.getMessage()).toLowerCase(Locale.ROOT);
        return text.contains("timeout") || text.contains("timed out") ? DnsResult.TIMEOUT : DnsResult.ERROR;
    }

    private static String describe(Throwable err) {
        if (err instanceof DnsException dns) {
            return dns.code().name();
        }
        if (err instanceof DnsNameResolverTimeoutException timeout) {
            return "timeout (" + timeout.remoteAddress().getHostString() + ":" + timeout.remoteAddress().getPort()
                    + ")";
        }
        return err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    }
}
