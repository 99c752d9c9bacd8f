package dev.relay.delivery.mx;

import dev.relay.common.rules.Cidr;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.metrics.TransportMetrics.DnsResult;
import dev.relay.delivery.transport.SmtpTarget;
import dev.relay.delivery.transport.TlsPolicy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsClient;
import io.vertx.core.dns.DnsClientOptions;
import io.vertx.core.dns.DnsException;
import io.vertx.core.dns.DnsResponseCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * DNS for delivery with the Vert.x {@link DnsClient}: MX of the recipient domain, then A and AAAA of each
 * exchange host (RFC 5321 §5.1). Asks the configured servers in order and moves to the next one on anything
 * but a definite answer. NXDOMAIN is definite; SERVFAIL and timeouts are not. Every lookup is counted by record
 * type and result in {@link TransportMetrics}.
 */
public final class MxResolver {

    private final List<DnsClient> clients;
    private final TransportMetrics metrics;
    private final Random random;

    public MxResolver(Vertx vertx, List<DnsServers.Server> servers, Duration queryTimeout) {
        this(vertx, servers, queryTimeout, new TransportMetrics(new SimpleMeterRegistry()), null);
    }

    /**
     * @param random shuffles MX hosts of equal preference; null for a thread-local random (tests pass a seeded
     *               one)
     */
    public MxResolver(Vertx vertx, List<DnsServers.Server> servers, Duration queryTimeout, TransportMetrics metrics,
                      Random random) {
        this.metrics = metrics;
        this.random = random;
        List<DnsClient> list = new ArrayList<>();
        for (DnsServers.Server server : servers) {
            list.add(vertx.createDnsClient(new DnsClientOptions()
                    .setHost(server.host())
                    .setPort(server.port())
                    .setQueryTimeout(queryTimeout.toMillis())
                    .setRecursionDesired(true)));
        }
        if (list.isEmpty()) {
            list.add(vertx.createDnsClient(new DnsClientOptions().setQueryTimeout(queryTimeout.toMillis())));
        }
        this.clients = List.copyOf(list);
    }

    /** The addresses to try for mail to {@code domain}, most preferred first, on {@code port}. */
    public Future<Resolution> resolve(String domain, int port, TlsPolicy tls) {
        return query("mx", dns -> dns.resolveMX(domain)).transform(answer -> {
            if (answer.failed()) {
                return Future.succeededFuture(isNxDomain(answer.cause())
                        ? Resolution.permanentFailure("550 5.1.2 domain " + domain + " does not exist")
                        : Resolution.transientFailure("451 4.4.3 MX lookup for " + domain + " failed: "
                        + describe(answer.cause())));
            }
            List<Mx> records = answer.result().stream().map(r -> Mx.of(r.priority(), r.name())).toList();
            MxPlan plan = MxPlan.of(domain, records, random == null ? ThreadLocalRandom.current() : random);
            if (plan instanceof MxPlan.NullMx) {
                return Future.succeededFuture(
                        Resolution.permanentFailure("556 5.1.10 domain " + domain + " accepts no mail (null MX)"));
            }
            if (plan instanceof MxPlan.Implicit) {
                return implicitMx(domain, port, tls);
            }
            return exchangers(domain, ((MxPlan.Exchangers) plan).hosts(), port, tls);
        });
    }

    /** A and AAAA of a host name, IPv4 first; an IP literal is returned as it is. NXDOMAIN gives no addresses. */
    public Future<List<String>> addresses(String host) {
        if (Cidr.literal(host) != null) {
            return Future.succeededFuture(List.of(host));
        }
        Future<List<String>> a = orEmptyOnNxDomain(query("a", dns -> dns.resolveA(host)));
        Future<List<String>> aaaa = orEmptyOnNxDomain(query("aaaa", dns -> dns.resolveAAAA(host)));
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

    public Future<Void> close() {
        return Future.join(clients.stream().map(DnsClient::close).toList()).mapEmpty();
    }

    private Future<Resolution> implicitMx(String domain, int port, TlsPolicy tls) {
        return addresses(domain).transform(found -> {
            if (found.failed()) {
                return Future.succeededFuture(Resolution.transientFailure(
                        "451 4.4.3 address lookup for " + domain + " failed: " + describe(found.cause())));
            }
            if (found.result().isEmpty()) {
                return Future.succeededFuture(Resolution.permanentFailure(
                        "550 5.1.2 domain " + domain + " has no MX and no address"));
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
                return Future.succeededFuture(Resolution.transientFailure("451 4.4.4 no address for the MX hosts of "
                        + domain + (failures.isEmpty() ? "" : " (" + String.join("; ", failures) + ")")));
            }
            return Future.succeededFuture(new Resolution.Targets(targets));
        });
    }

    /** Asks the servers in order until one gives a definite answer (success or NXDOMAIN). */
    private <T extends Collection<?>> Future<T> query(String type, Function<DnsClient, Future<T>> question) {
        Future<T> chain = question.apply(clients.get(0));
        for (int i = 1; i < clients.size(); i++) {
            DnsClient next = clients.get(i);
            chain = chain.recover(err -> isNxDomain(err) ? Future.failedFuture(err) : question.apply(next));
        }
        return chain.onComplete(done -> metrics.dnsLookup(type, done.succeeded()
                ? (done.result().isEmpty() ? DnsResult.NODATA : DnsResult.OK)
                : result(done.cause())));
    }

    private static DnsResult result(Throwable err) {
        if (err instanceof DnsException dns) {
            return dns.code() == DnsResponseCode.NXDOMAIN ? DnsResult.NXDOMAIN
                    : dns.code() == DnsResponseCode.SERVFAIL ? DnsResult.SERVFAIL : DnsResult.ERROR;
        }
        String text = String.valueOf(err.getMessage()).toLowerCase(Locale.ROOT);
        return text.contains("timeout") || text.contains("timed out") ? DnsResult.TIMEOUT : DnsResult.ERROR;
    }

    private static Future<List<String>> orEmptyOnNxDomain(Future<List<String>> lookup) {
        return lookup.recover(err -> isNxDomain(err) ? Future.succeededFuture(List.of()) : Future.failedFuture(err));
    }

    private static boolean isNxDomain(Throwable err) {
        return err instanceof DnsException dns && dns.code() == DnsResponseCode.NXDOMAIN;
    }

    private static String describe(Throwable err) {
        if (err instanceof DnsException dns) {
            return dns.code().name();
        }
        return err.getMessage() == null ? err.getClass().getSimpleName() : err.getMessage();
    }
}
