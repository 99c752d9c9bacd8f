package dev.relay.delivery.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * Metrics of the outbound transport (connections, DNS, TLS, destination back-off). A plain class, so that the
 * framework-free transport can be tested with a {@code SimpleMeterRegistry}. Tags are bounded: DNS record type
 * and result, TLS protocol and cipher suite (a fixed set of the JDK); never a host, domain or address.
 * <ul>
 *   <li>{@code relay.delivery.connections.open}: gauge, outbound SMTP connections open now (idle pooled included).</li>
 *   <li>{@code relay.delivery.connections.opened} / {@code .reused}: counters, new connections, and transactions
 *       sent over a pooled connection.</li>
 *   <li>{@code relay.delivery.dns.lookups{type=mx|a|aaaa, result=ok|nodata|nxdomain|servfail|timeout|error}}:
 *       counter, one per lookup that asked the DNS servers (after asking every configured server as needed);
 *       answers taken from the DNS cache are not counted here.</li>
 *   <li>{@code relay.delivery.dns.cache{type=mx|a|aaaa, result=hit|miss}}: counter, one per lookup while the DNS
 *       cache is enabled: {@code hit} answered from the cache (positive or negative), {@code miss} asked the
 *       servers (and is also counted in {@code dns.lookups}).</li>
 *   <li>{@code relay.delivery.dns.cache.entries}: gauge, answers in the DNS cache (expired ones not yet dropped
 *       included).</li>
 *   <li>{@code relay.delivery.tls{protocol, cipher}}: counter, one per established session; {@code none/none} for
 *       plain text.</li>
 *   <li>{@code relay.delivery.destinations.backoff}: gauge, destinations in back-off after a throttling reply.</li>
 *   <li>{@code relay.delivery.loops{where=mx|greeting}}: counter, deliveries bounced {@code 5.4.6} because an MX
 *       host has our own name ({@code mx}) or a server greeted us with it ({@code greeting}).</li>
 *   <li>{@code relay.delivery.local.unrouted}: counter, deliveries to a local domain deferred {@code 4.3.5}
 *       because {@code relay.delivery.mailbox-route} is not configured; anything above 0 is a configuration
 *       error to alert on.</li>
 *   <li>{@code relay.delivery.tls.policy{policy=none|may|encrypt|verify|secure|dane|dane-only,
 *       source=table|dane|mta-sts|default|route}}: counter, one per TLS decision for a host of a delivery (which
 *       policy applied and what decided it: the policy table, DANE, MTA-STS, the default or the route's own).</li>
 *   <li>{@code relay.delivery.dane{result=verified|failed|no-tlsa|insecure|lookup-failed}}: counter; {@code
 *       verified}/{@code failed}: a DANE connection's certificate matched its TLSA records or not; the others: why
 *       a host of a delivery with {@code relay.delivery.dns.dnssec=true} got no DANE (no TLSA records, MX or address
 *       records not DNSSEC-secure, TLSA lookup failed: that host is then not tried).</li>
 * </ul>
 */
public class TransportMetrics {

    public static final String CONNECTIONS_OPEN = "relay.delivery.connections.open";
    public static final String CONNECTIONS_OPENED = "relay.delivery.connections.opened";
    public static final String CONNECTIONS_REUSED = "relay.delivery.connections.reused";
    public static final String DNS_LOOKUPS = "relay.delivery.dns.lookups";
    public static final String DNS_CACHE = "relay.delivery.dns.cache";
    public static final String DNS_CACHE_ENTRIES = "relay.delivery.dns.cache.entries";
    public static final String TLS = "relay.delivery.tls";
    public static final String BACKOFF = "relay.delivery.destinations.backoff";
    public static final String LOOPS = "relay.delivery.loops";
    public static final String LOCAL_UNROUTED = "relay.delivery.local.unrouted";
    public static final String TLS_POLICY = "relay.delivery.tls.policy";
    public static final String DANE = "relay.delivery.dane";

    /** The values of the {@code result} tag of {@link #DANE}. */
    public static final List<String> DANE_RESULTS = List.of("verified", "failed", "no-tlsa", "insecure",
            "lookup-failed");

    /** Where a mail loop was seen, the only values of the {@code where} tag. */
    public enum LoopSeen { MX, GREETING }

    /** The DNS lookup results, the only values of the {@code result} tag. */
    public enum DnsResult { OK, NODATA, NXDOMAIN, SERVFAIL, TIMEOUT, ERROR }

    private final MeterRegistry registry;
    private final AtomicInteger open = new AtomicInteger();
    private final Counter opened;
    private final Counter reused;
    private final Counter localUnrouted;

    public TransportMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder(CONNECTIONS_OPEN, open, AtomicInteger::get)
                .description("Outbound SMTP connections open, idle pooled ones included")
                .register(registry);
        this.opened = Counter.builder(CONNECTIONS_OPENED).description("Outbound SMTP connections opened")
                .register(registry);
        this.reused = Counter.builder(CONNECTIONS_REUSED)
                .description("Transactions sent over an already open (pooled) connection").register(registry);
        this.localUnrouted = Counter.builder(LOCAL_UNROUTED)
                .description("Deliveries to a local domain deferred because no mailbox route is configured")
                .register(registry);
        for (LoopSeen where : LoopSeen.values()) {
            loopCounter(where);
        }
        for (String result : DANE_RESULTS) {
            daneCounter(result);
        }
        for (String type : new String[]{"mx", "a", "aaaa"}) {
            for (DnsResult result : DnsResult.values()) {
                dnsCounter(type, result); // every series exists from the start, scraped as 0
            }
            dnsCacheCounter(type, true);
            dnsCacheCounter(type, false);
        }
    }

    /** Registers the back-off gauge; the supplier is asked at every scrape. */
    public void watchBackOff(IntSupplier destinationsInBackOff) {
        Gauge.builder(BACKOFF, destinationsInBackOff, s -> s.getAsInt())
                .description("Destinations in back-off after a throttling reply")
                .strongReference(true)
                .register(registry);
    }

    /** Registers the DNS cache size gauge; the supplier is asked at every scrape. */
    public void watchDnsCache(IntSupplier entries) {
        Gauge.builder(DNS_CACHE_ENTRIES, entries, s -> s.getAsInt())
                .description("Answers in the delivery DNS cache")
                .strongReference(true)
                .register(registry);
    }

    public void connectionOpened() {
        open.incrementAndGet();
        opened.increment();
    }

    /** Once per established session: the TLS protocol and cipher suite, or null/null for plain text. */
    public void tlsNegotiated(String tlsProtocol, String cipher) {
        Counter.builder(TLS).description("Outbound SMTP connections by TLS protocol and cipher (none = plain text)")
                .tag("protocol", tlsProtocol == null ? "none" : tlsProtocol)
                .tag("cipher", cipher == null ? "none" : cipher)
                .register(registry).increment();
    }

    public void connectionClosed() {
        open.decrementAndGet();
    }

    public void connectionReused() {
        reused.increment();
    }

    /** @param type mx, a or aaaa */
    public void dnsLookup(String type, DnsResult result) {
        dnsCounter(type, result).increment();
    }

    /**
     * @param type mx, a or aaaa
     * @param hit  answered from the cache; false: asked the servers
     */
    public void dnsCache(String type, boolean hit) {
        dnsCacheCounter(type, hit).increment();
    }

    /**
     * One TLS decision for a host of a delivery.
     *
     * @param policy none, may, encrypt, verify, secure, dane or dane-only
     * @param source table, dane, mta-sts, default or route
     */
    public void tlsPolicy(String policy, String source) {
        Counter.builder(TLS_POLICY).description("TLS decisions for outbound hosts by policy and what decided it")
                .tag("policy", policy).tag("source", source)
                .register(registry).increment();
    }

    /** @param result one of {@link #DANE_RESULTS} */
    public void dane(String result) {
        if (!DANE_RESULTS.contains(result)) {
            throw new IllegalArgumentException("unknown DANE result " + result);
        }
        daneCounter(result).increment();
    }

    private Counter daneCounter(String result) {
        return Counter.builder(DANE).description("DANE outcomes of outbound hosts").tag("result", result)
                .register(registry);
    }

    /** A delivery bounced 5.4.6: the next hop is ourselves. */
    public void loopDetected(LoopSeen where) {
        loopCounter(where).increment();
    }

    /** A delivery to a local domain deferred 4.3.5: no mailbox route configured. */
    public void localUnrouted() {
        localUnrouted.increment();
    }

    public int openConnections() {
        return open.get();
    }

    private Counter loopCounter(LoopSeen where) {
        return Counter.builder(LOOPS).description("Deliveries bounced because the next hop is this relay itself")
                .tag("where", where.name().toLowerCase(Locale.ROOT)).register(registry);
    }

    private Counter dnsCacheCounter(String type, boolean hit) {
        return Counter.builder(DNS_CACHE).description("DNS lookups for delivery answered from the cache (hit) or not")
                .tag("type", type).tag("result", hit ? "hit" : "miss")
                .register(registry);
    }

    private Counter dnsCounter(String type, DnsResult result) {
        return Counter.builder(DNS_LOOKUPS).description("DNS lookups for delivery by record type and result")
                .tag("type", type).tag("result", result.name().toLowerCase(Locale.ROOT))
                .register(registry);
    }
}
