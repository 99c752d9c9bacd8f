package dev.relay.delivery.config;

import dev.relay.common.net.HostName;
import dev.relay.delivery.auth.CredentialStore;
import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.delivery.metrics.OutboundExtensionMetrics;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.mtasts.MtaSts;
import dev.relay.delivery.mtasts.MtaStsMetrics;
import dev.relay.delivery.mtasts.PolicyCache;
import dev.relay.delivery.mtasts.PolicyFetcher;
import dev.relay.delivery.mtasts.WebPkiTrust;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.DnsCache;
import dev.relay.delivery.mx.DnsServers;
import dev.relay.delivery.mx.MxResolver;
import dev.relay.delivery.mx.NextHopSpec;
import dev.relay.delivery.mx.RouteResolver;
import dev.relay.delivery.retry.RetryPolicy;
import dev.relay.delivery.retry.WaitingMessages;
import dev.relay.delivery.tls.DeliveryTlsPolicy;
import dev.relay.delivery.tls.TlsPolicyMap;
import dev.relay.delivery.transport.Chunking;
import dev.relay.delivery.transport.ConnectionReuse;
import dev.relay.delivery.transport.OutboundOptions;
import dev.relay.delivery.transport.OwnName;
import dev.relay.delivery.transport.SmtpClient;
import dev.relay.delivery.transport.SmtpTimeouts;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the plain (framework-free) delivery core from {@link DeliveryConfig}. Singletons without client proxies,
 * so that they are built when the consumer starts: a bad route or smarthost fails the start, not the first record.
 */
@ApplicationScoped
public class DeliveryBeans {

    private static final Logger LOG = Logger.getLogger(DeliveryBeans.class);

    @Produces
    @Singleton
    TransportMetrics transportMetrics(MeterRegistry registry) {
        return new TransportMetrics(registry);
    }

    @Produces
    @Singleton
    DestinationGate destinationGate(Vertx vertx, DeliveryConfig config, TransportMetrics metrics) {
        DeliveryConfig.Destination d = config.destination();
        DestinationGate gate = new DestinationGate(vertx, new DestinationLimits(d.maxConnections(), d.maxQueue(),
                d.messagesPerMinute(), d.backoff().initial(), d.backoff().max()));
        metrics.watchBackOff(gate::backingOffCount);
        return gate;
    }

    @Produces
    @Singleton
    OutboundOptions outboundOptions(Vertx vertx, DeliveryConfig config, MeterRegistry registry) {
        Path dir = Path.of(config.auth().credentialsDir());
        Chunking chunking = new Chunking(config.smtp().chunkingThreshold(), config.smtp().chunkSize());
        LOG.infof("AUTH credentials from %s (checked for changes every %s); BDAT %s", dir,
                config.auth().reloadPeriod(), chunking.threshold() < 0 ? "never" : "for messages of "
                        + chunking.threshold() + " octets and more when offered, in chunks of " + chunking.chunkSize());
        return new OutboundOptions(Optional.of(new CredentialStore(vertx, dir, config.auth().reloadPeriod())),
                chunking, new OutboundExtensionMetrics(registry));
    }

    @Produces
    @Singleton
    SmtpClient smtpClient(Vertx vertx, DeliveryConfig config, DestinationGate gate, TransportMetrics metrics,
                          WebPkiTrust trust, OutboundOptions options) {
        String helo = heloName(config);
        LOG.infof("outbound SMTP as %s, port %d, private destinations %s, %d connections per destination, "
                        + "up to %d messages per connection", helo, config.smtp().port(),
                config.testOnlyAllowPrivateMx() ? "ALLOWED (test-only switch)" : "refused unless ;internal", config.destination().maxConnections(),
                config.connection().maxMessages());
        return new SmtpClient(vertx, helo,
                new SmtpTimeouts(config.connectTimeout(), config.commandTimeout(), config.dataTimeout()),
                new ConnectionReuse(config.connection().maxMessages(), config.connection().idleTimeout()),
                gate, metrics, trust.extraRoots() == 0 ? null : trust.trustManager(), options);
    }

    /** The roots of verified TLS: the JDK's, plus {@code relay.delivery.tls.trust-store} when set. */
    @Produces
    @Singleton
    WebPkiTrust webPkiTrust(DeliveryConfig config) {
        WebPkiTrust trust = WebPkiTrust.of(config.tls().trustStore().filter(p -> !p.isBlank()).map(Path::of));
        config.tls().trustStore().ifPresent(path -> LOG.infof("verified TLS trusts the JDK's roots and %d "
                + "certificate(s) of %s", trust.extraRoots(), path));
        return trust;
    }

    void closeSmtpClient(@Disposes SmtpClient client) {
        client.close();
    }

    @Produces
    @Singleton
    RetryPolicy retryPolicy(DeliveryConfig config) {
        RetryPolicy policy = new RetryPolicy(config.retry().schedule(), config.retry().maxAge(),
                config.delayNotice().after(), config.retry().topicPrefix());
        LOG.infof("retry tiers %s, give up after %s, delay notices %s", policy.tiers(), config.retry().maxAge(),
                config.delayNotice().after().map(d -> "after " + d).orElse("off"));
        return policy;
    }

    /** Messages this instance put on a retry tier, for the oldest-waiting gauge (bounded). */
    @Produces
    @Singleton
    WaitingMessages waitingMessages(DeliveryConfig config) {
        Duration longest = config.retry().schedule().stream().max(Duration::compareTo).orElse(Duration.ZERO);
        return new WaitingMessages(longest.toMillis(), 100_000);
    }

    @Produces
    @Singleton
    MxResolver mxResolver(Vertx vertx, DeliveryConfig config, TransportMetrics metrics) {
        DeliveryConfig.Dns dns = config.dns();
        DnsCache cache = new DnsCache(dns.cacheMaxTtl(), dns.negativeTtl(), dns.cacheMaxEntries(),
                DnsCache::monotonicMillis);
        metrics.watchDnsCache(cache::size);
        LOG.infof("DNS cache %s", cache.enabled() ? "up to " + dns.cacheMaxEntries() + " answers for their TTL, at most "
                + dns.cacheMaxTtl() + " (negative answers without SOA " + dns.negativeTtl() + ")" : "off");
        if (dns.dnssec()) {
            LOG.infof("DNSSEC: the AD bit of %s is trusted (relay.delivery.dns.dnssec=true): DANE applies to MX hosts "
                    + "with secure TLSA records; these resolvers must validate and be reached over a trusted path",
                    dns.servers().map(Object::toString).orElse("the resolv.conf nameserver"));
        }
        return new MxResolver(vertx, DnsServers.choose(dns.servers(), DnsServers.RESOLV_CONF), dns.timeout(), metrics,
                null, cache, new OwnName(heloName(config)), dns.dnssec());
    }

    void closeMxResolver(@Disposes MxResolver resolver) {
        resolver.close();
    }

    @Produces
    @Singleton
    RouteResolver routeResolver(Vertx vertx, MxResolver mx, DeliveryConfig config, TransportMetrics metrics,
                                WebPkiTrust trust, MeterRegistry registry) {
        Map<String, NextHopSpec> routes = new HashMap<>();
        config.routes().forEach((domain, hop) -> routes.put(unquote(domain).toLowerCase(Locale.ROOT),
                NextHopSpec.parse(hop)));
        config.smarthost().ifPresent(s -> LOG.infof("all mail goes to smarthost %s", s));
        Optional<NextHopSpec> mailbox = config.mailboxRoute().filter(s -> !s.isBlank()).map(NextHopSpec::parse);
        if (mailbox.isPresent()) {
            LOG.infof("mail for local domains goes to mailbox route %s", config.mailboxRoute().get());
        } else if (config.smarthost().filter(s -> !s.isBlank()).isEmpty()) {
            LOG.warn("relay.delivery.mailbox-route is not set: mail for local domains is deferred (4.3.5) until "
                    + "it is configured");
        }
        warnAboutRemovedSwitch();
        TlsPolicyMap table = TlsPolicyMap.parse(config.tls().policyMap().orElse(List.of()));
        if (!table.isEmpty()) {
            LOG.infof("TLS policy table: %d entries (relay.delivery.tls.policy-map)", table.size());
        }
        DestinationGuard guard = new DestinationGuard(config.testOnlyAllowPrivateMx());
        return new RouteResolver(vertx, mx, guard,
                config.smarthost().filter(s -> !s.isBlank()).map(NextHopSpec::parse), Map.copyOf(routes), mailbox,
                config.smtp().port(), metrics,
                new DeliveryTlsPolicy(table, mx, metrics, mtaSts(vertx, mx, guard, config, trust, registry)));
    }

    /** MTA-STS for MX deliveries, or null when switched off. */
    private static MtaSts mtaSts(Vertx vertx, MxResolver mx, DestinationGuard guard, DeliveryConfig config,
                                 WebPkiTrust trust, MeterRegistry registry) {
        DeliveryConfig.MtaSts sts = config.mtaSts();
        if (!sts.enabled()) {
            LOG.info("MTA-STS is off (relay.delivery.mta-sts.enabled=false): MX deliveries are opportunistic");
            return null;
        }
        if (sts.testOnlyHttpsPort() != 443) {
            LOG.warnf("MTA-STS policies are fetched from port %d (test-only switch), not 443",
                    sts.testOnlyHttpsPort());
        }
        LOG.infof("MTA-STS on: policies fetched within %s, up to %d domains cached per instance", sts.fetchTimeout(),
                sts.cacheSize());
        return new MtaSts(mx, new PolicyFetcher(vertx, mx, guard, trust, sts.fetchTimeout(), sts.testOnlyHttpsPort()),
                new PolicyCache(sts.cacheSize(), DnsCache::monotonicMillis), trust, new MtaStsMetrics(registry));
    }

    /** The EHLO name, which is also the name loop detection knows as our own. */
    private static String heloName(DeliveryConfig config) {
        return HostName.of(config.heloName());
    }

    /**
     * {@code relay.delivery.allow-private-destinations} is gone (ADR 0008): a deployment that still sets it gets the
     * strict guard, so it is told how to allow its internal next hop instead of finding out from bounces.
     */
    private static void warnAboutRemovedSwitch() {
        ConfigProvider.getConfig().getOptionalValue("relay.delivery.allow-private-destinations", String.class)
                .ifPresent(v -> LOG.warnf("relay.delivery.allow-private-destinations=%s is no longer read: private "
                        + "addresses are refused unless the smarthost or route is marked ';internal' "
                        + "(e.g. smtp.corp.internal:25;internal)", v));
    }

    private static String unquote(String key) {
        return key.length() >= 2 && key.startsWith("\"") && key.endsWith("\"")
                ? key.substring(1, key.length() - 1) : key;
    }
}
