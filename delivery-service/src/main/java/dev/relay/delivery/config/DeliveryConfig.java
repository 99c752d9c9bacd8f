package dev.relay.delivery.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything under {@code relay.delivery}. Defaults are the local values; every key can be overridden by its
 * environment variable ({@code RELAY_DELIVERY_SMTP_PORT} for {@code relay.delivery.smtp.port}).
 */
@ConfigMapping(prefix = "relay.delivery")
public interface DeliveryConfig {

    Dns dns();

    Smtp smtp();

    Tls tls();

    /**
     * TESTS AND LOCAL RUNS ONLY: every destination, MX-derived ones included, may be on a private network
     * (loopback, RFC 1918, CGNAT, ULA), because the tests' DNS responder points MX records at 127.0.0.1. Never in
     * production: an internal next hop is configured with {@code ;internal} on the smarthost or a route instead.
     */
    @WithDefault("false")
    boolean testOnlyAllowPrivateMx();

    /** Credentials for AUTH towards hops that name one ({@code ;auth=<name>}, rule set {@code auth}). */
    Auth auth();

    /**
     * {@code host:port[;tls=policy][;internal][;auth=credential]}: when set, ALL mail goes there (local runs: the
     * capture MX, which is {@code ;internal}).
     */
    Optional<String> smarthost();

    /** Static transport map: recipient domain → {@code host:port[;tls=policy][;internal]}. */
    Map<String, String> routes();

    /**
     * {@code host:port[;tls=policy][;internal]}: the mailbox backend that receives mail for the local domains (the
     * policy's LOCAL routes). Below the smarthost and the routes. Unset: such mail is deferred {@code 4.3.5} (never
     * sent by MX, which is Relay itself) until it is configured or the message expires.
     */
    Optional<String> mailboxRoute();

    /** The name we give in EHLO/HELO; default: this machine's host name. */
    Optional<String> heloName();

    @WithDefault("30s")
    Duration connectTimeout();

    /** Greeting and every command reply (RFC 5321 §4.5.3.2: at least 5 minutes). */
    @WithDefault("5m")
    Duration commandTimeout();

    /** Reply to the final dot (RFC 5321 §4.5.3.2: at least 10 minutes). */
    @WithDefault("10m")
    Duration dataTimeout();

    /**
     * Records delivered at the same time by one instance. Each waits for remote replies and then for Kafka's
     * acknowledgement of its outcome, so this, not the CPU, bounds one instance's rate against a fast receiver.
     */
    @WithDefault("32")
    int concurrency();

    Retry retry();

    // ---- outbound transport: connection reuse and per-destination limits (issue #5, transport part) ----

    Connection connection();

    Destination destination();

    /** Reuse of an outbound connection for further messages to the same target. */
    interface Connection {
        /** Transactions per connection before it is closed; 1 switches reuse off. */
        @WithDefault("100")
        int maxMessages();

        /** An idle pooled connection is closed (QUIT) after this; 0 switches reuse off. */
        @WithDefault("5s")
        Duration idleTimeout();
    }

    /**
     * Limits per destination (remote host and port: an MX host, a route's or the smarthost's host). They hold
     * per delivery instance: with N instances a destination may see N times these.
     */
    interface Destination {
        /** Open connections per destination, idle pooled ones included (Postfix's default limit is 20 too). */
        @WithDefault("20")
        int maxConnections();

        /** Deliveries waiting for a connection slot of one destination; beyond, deferred (451 4.4.5). */
        @WithDefault("100")
        int maxQueue();

        /** Messages started per minute per destination; 0 = unlimited. */
        @WithDefault("0")
        int messagesPerMinute();

        Backoff backoff();

        /** After a throttling reply (421, 4.7.x) the destination is left alone; the period doubles up to max. */
        interface Backoff {
            @WithDefault("1m")
            Duration initial();

            @WithDefault("30m")
            Duration max();
        }
    }

    DelayNotice delayNotice();

    /** MTA-STS (RFC 8461) for MX deliveries. */
    MtaSts mtaSts();

    interface MtaSts {
        /** Look up and apply the MTA-STS policy of each recipient domain delivered to by MX. */
        @WithDefault("true")
        boolean enabled();

        /** The whole policy fetch (DNS of the policy host, connect, TLS, response) at most this long. */
        @WithDefault("10s")
        Duration fetchTimeout();

        /** Policy domains cached at most per instance (least recently used dropped beyond); 0: no cache. */
        @WithDefault("10000")
        int cacheSize();

        /**
         * TESTS ONLY: the port of the policy servers (RFC 8461 §3.3: 443). A test's policy server listens on an
         * ephemeral port.
         */
        @WithDefault("443")
        int testOnlyHttpsPort();
    }

    /** TLS-RPT (RFC 8460): aggregate reports on the outbound TLS of this cluster to the domains that ask. */
    Tlsrpt tlsrpt();

    /**
     * TLS-RPT (docs/adr/0016): every MX delivery attempt's TLS outcome goes to {@code topic}; the instance that owns
     * a partition aggregates it per window and, when the window closes, sends each policy domain that publishes
     * {@code _smtp._tls} its report.
     */
    interface Tlsrpt {
        @WithDefault("false")
        boolean enabled();

        /** The report's {@code organization-name} and {@code TLS-Report-Submitter}. */
        @WithDefault("Relay")
        String organizationName();

        /** The report's {@code contact-info}; unset: the sender address. */
        Optional<String> contactInfo();

        /** The envelope and header sender of reports sent by mail ({@code mailto:} rua). */
        @WithDefault("tlsrpt-noreply@localhost")
        String sender();

        /** The aggregation window; RFC 8460 §4.1: a UTC day. Shorter only in tests. */
        @WithDefault("1d")
        Duration window();

        /** Policy domains per window per instance at most; results for more are counted and not reported. */
        @WithDefault("10000")
        int maxDomains();

        /** failure-details entries per policy at most; sessions beyond stay in the summary counts. */
        @WithDefault("100")
        int maxFailureDetails();

        /** One report delivery (DNS of the rua, HTTPS POST, or the Kafka write of the mail) at most this long. */
        @WithDefault("30s")
        Duration sendTimeout();

        /** The topic of results and sent markers (key = policy domain). */
        @WithDefault("relay.tlsrpt.v1")
        String topic();

        /** The consumer group of the aggregators: each instance aggregates the partitions it is assigned. */
        @WithDefault("relay-delivery-tlsrpt")
        String groupId();
    }

    Suppression suppression();

    /**
     * The suppression list (docs/adr/0015): a hard bounce from a remote server with one of {@code codes} stops
     * further attempts to that address for {@code ttl}, cluster-wide (compacted topic).
     */
    interface Suppression {
        /** How long an entry written after a hard bounce holds; {@code 0s} switches suppression off. */
        @WithDefault("30d")
        Duration ttl();

        /** Enhanced status codes that suppress; each must be 5.1.x (5.7.x and 5.2.x are refused at start). */
        @WithDefault("5.1.1,5.1.2,5.1.6,5.1.10")
        List<String> codes();

        /**
         * Entries held per instance (about 300 bytes each with a short reply, at most about 900 bytes); when full the
         * soonest-expiring is evicted ({@code relay.delivery.suppression.evicted}).
         */
        @WithDefault("100000")
        int maxEntries();

        /** The compacted topic (key = lower-cased address, tombstone = removal). */
        @WithDefault("relay.suppression.v1")
        String topic();

        /** How often this instance writes tombstones for the expired entries it holds (idempotent across instances). */
        @WithDefault("1m")
        Duration sweepPeriod();

        /** Tombstones written per sweep at most (the rest wait for the next sweep). */
        @WithDefault("1000")
        int sweepMax();
    }

    /**
     * On shutdown (SIGTERM): stop taking records, let deliveries in flight finish for at most this long, then
     * leave the unfinished ones uncommitted for another instance. Below Kubernetes' default grace of 30 s.
     */
    @WithDefault("25s")
    Duration shutdownGrace();

    interface Dns {
        /** Resolvers as {@code host:port}; default: the nameservers of /etc/resolv.conf. */
        Optional<List<String>> servers();

        @WithDefault("5s")
        Duration timeout();

        /**
         * Answers (MX, A, AAAA; NXDOMAIN and NODATA too) are cached for their TTL, but at most this long;
         * {@code 0s} disables the cache.
         */
        @WithDefault("1h")
        Duration cacheMaxTtl();

        /** How long NXDOMAIN and NODATA answers without an SOA (RFC 2308) are cached; with one, its TTL counts. */
        @WithDefault("5m")
        Duration negativeTtl();

        /** Answers cached at most; beyond, the least recently used goes. {@code 0} disables the cache. */
        @WithDefault("10000")
        int cacheMaxEntries();

        /**
         * The resolvers of {@code servers} validate DNSSEC and their AD bit is trusted (as Postfix's
         * {@code smtp_dns_support_level=dnssec}): queries carry the DO bit and DANE (RFC 7672) applies to MX hosts
         * with secure TLSA records. Only with a validating resolver on a trusted path (127.0.0.1, a node-local
         * resolver): an AD bit that crossed a network can be forged.
         */
        @WithDefault("false")
        boolean dnssec();
    }

    /** Outbound TLS: the policy table (ADR 0012) and the roots of verified TLS. */
    interface Tls {
        /**
         * The per-destination policy table, like Postfix's {@code smtp_tls_policy_maps}: entries
         * {@code domain=policy[;match=name1:name2]} (policies none, may, encrypt, verify, secure, dane, dane-only;
         * {@code .example.org} for every domain under example.org). Keyed by recipient domain; applies to MX
         * deliveries and static routes.
         */
        Optional<List<String>> policyMap();

        /**
         * A PEM file of CA certificates trusted in addition to the JDK's roots for verified TLS (TLS policy
         * {@code verify}, MTA-STS enforce and policy fetches): a private CA of internal next hops, or the tests'
         * run-time CA. Read once at start.
         */
        Optional<String> trustStore();
    }

    interface Smtp {
        /** Port of remote MX hosts (and of routes that give none). */
        @WithDefault("25")
        int port();

        /**
         * Messages of at least this many octets go with BDAT (RFC 3030) when the server offers CHUNKING; {@code 0}
         * = always when offered, {@code -1} = never.
         */
        @WithDefault("1048576")
        long chunkingThreshold();

        /** Octets per BDAT chunk. */
        @WithDefault("1048576")
        int chunkSize();
    }

    /**
     * Where credentials come from: one directory per credential name under {@code credentials-dir} (a mounted
     * Kubernetes Secret) with the files {@code mechanism}, {@code username} and {@code password} or {@code token}.
     */
    interface Auth {
        @WithDefault("/etc/relay/credentials")
        String credentialsDir();

        /** A credential read once is used this long before its files are checked for changes again. */
        @WithDefault("1m")
        Duration reloadPeriod();
    }

    /** The retry loop: one topic per distinct delay of the schedule (a tier), read when records fall due. */
    interface Retry {
        /** Wait after the 1st, 2nd ... failed attempt; after the last step, every last step. */
        @WithDefault("1m,5m,15m,30m,1h,2h,4h,8h")
        List<Duration> schedule();

        /** Give up (DSN, expired event) at the first failed attempt this long after the message was received. */
        @WithDefault("5d")
        Duration maxAge();

        /** Tier topics are {@code <prefix>.<delay>}: relay.retry.v1.1m, relay.retry.v1.5m ... */
        @WithDefault("relay.retry.v1")
        String topicPrefix();

        /** Consumer group of the tier topics (separate from the outbound group: other topics, other pace). */
        @WithDefault("relay-delivery-retry")
        String groupId();
    }

    interface DelayNotice {
        /** Send one "delayed" DSN per record once its message has waited this long; unset: never. */
        Optional<Duration> after();
    }
}
