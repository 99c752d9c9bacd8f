package dev.relay.delivery.mx;

import dev.relay.common.net.IpLiteral;
import dev.relay.delivery.metrics.TransportMetrics.DnsResult;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.transport.OwnName;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
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
import java.util.List;
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
 */
public final class MxResolver {

    private static final Logger LOG = Logger.getLogger(MxResolver.class);

    private final NettyDnsClient dns;
    private final List<InetSocketAddress> servers;
    private final TransportMetrics metrics;
    private final Random random;
    private final DnsCache cache;
    private final OwnName self;

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
        this.self = self;
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
        this.dns = new NettyDnsClient(vertx, this.servers, queryTimeout);
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
            if (plan instanceof MxPlan.Implicit) {
                return implicitMx(domain, port, tls);
            }
            return exchangers(domain, ((MxPlan.Exchangers) plan).hosts(), port, tls);
        });
    }

    /**
     * A and AAAA of a host name, IPv4 first; an IP literal ({@link IpLiteral}: never a hex-looking name such as
     * {@code f00d.cafe}) is returned in canonical form without a lookup. NXDOMAIN gives no addresses.
     */
    public Future<List<String>> addresses(String host) {
        byte[] literal = IpLiteral.parse(host);
        if (literal != null) {
            return Future.succeededFuture(List.of(IpLiteral.format(literal)));
        }
        Future<List<String>> a = lookup("a", DnsRecordType.A, host, NettyDnsClient::address).map(DnsAnswer::records);
        Future<List<String>> aaaa = lookup("aaaa", DnsRecordType.AAAA, host, NettyDnsClient::address)
                .map(DnsAnswer::records);
        return Future.all(a, aaaa).transform(both -> {
            List<String> all = new ArrayList<>();
            if (a.succeeded()) {
                all.addAll(a.result());
            }
            if (aaaa.succeeded()) {
                all.addAll(aaaa.result());
            }
            if (all.isEmpty() && (a.failed() || aaaa.failed())) {
                return Future.failedFuture(a.failed() ? a.cause() : aaaa.cause());
            }
            return Future.succeededFuture(all);
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

    private Future<Resolution> implicitMx(String domain, int port, TlsPolicy tls) {
        return addresses(domain).transform(found -> {
            if (found.failed()) {
                return Future.succeededFuture(Resolution.failure(451, "4.4.3",
                        "address lookup for " + domain + " failed: " + describe(found.cause())));
            }
            if (found.result().isEmpty()) {
                return Future.succeededFuture(Resolution.failure(550, "5.1.2",
                        "domain " + domain + " has no MX and no address"));
            }
            return Future.succeededFuture(new Resolution.Targets(
                    found.result().stream().map(ip -> new SmtpTarget(domain, ip, port, tls)).toList()));
        });
    }

    private Future<Resolution> exchangers(String domain, List<String> hosts, int port, TlsPolicy tls) {
        List<Future<List<String>>> lookups = hosts.stream().map(this::addresses).toList();
        return Future.join(new ArrayList<>(lookups)).transform(done -> {
            List<SmtpTarget> targets = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < hosts.size(); i++) {
                Future<List<String>> lookup = lookups.get(i);
                if (lookup.succeeded()) {
                    for (String ip : lookup.result()) {
                        targets.add(new SmtpTarget(hosts.get(i), ip, port, tls));
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
            return Future.succeededFuture(new Resolution.Targets(targets));
        });
    }

    /** The cached answer, or the servers': then kept for its TTL. */
    private <T> Future<DnsAnswer<T>> lookup(String type, DnsRecordType question, String name,
                                            Function<DnsRecord, T> decoder) {
        DnsAnswer<T> cached = cache.get(type, name);
        if (cached != null) {
            metrics.dnsCache(type, true);
            return Future.succeededFuture(cached);
        }
        if (cache.enabled()) {
            metrics.dnsCache(type, false);
        }
        return query(type, server -> dns.query(server, question, name, decoder))
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
