package dev.relay.policy.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Map;
import java.util.Optional;

/** Every {@code relay.policy.*} key; the README's configuration table lists them with these defaults. */
@ConfigMapping(prefix = "relay.policy")
public interface PolicyConfig {

    /**
     * Static transport map: recipient domain (or {@code *.domain} for subdomains) to next hop {@code host:port}.
     * Set as {@code relay.policy.routes."example.org"=mx.internal:25}.
     */
    Map<String, String> routes();

    /** Next hop {@code host:port} for every domain without a static route; when absent, DNS MX is used. */
    Optional<String> smarthost();

    /** TLS policy for static routes and the smarthost: none, opportunistic, required or verify. */
    @WithDefault("opportunistic")
    String routeTls();

    /**
     * A rule-set JSON file ({@link dev.relay.common.rules.RuleSet}) stored in the rules topic on first start, when
     * the topic holds no rule set yet. When absent, the {@code relay.rules.*} configuration is the seed.
     */
    Optional<String> rulesFile();

    /** Keycloak base URL for the admin API's token verification (realm {@code relay}). */
    @WithDefault("http://127.0.0.1:8180")
    String keycloakUrl();

    /** How long startup waits for the rules topic to be read before the service runs with the seed rules. */
    @WithDefault("30s")
    java.time.Duration rulesStartupTimeout();

    /**
     * Inbound records processed at the same time by one instance: that many Kafka consumers in the group, each
     * handling its partitions one record at a time. More than the partitions per instance leaves consumers idle.
     */
    @WithDefault("4")
    int concurrency();

    /**
     * Records one instance may have decided and produced whose output Kafka has not acknowledged yet. The next
     * record is decided while earlier ones wait for their acknowledgement; each input is committed only after
     * its own output was acknowledged (the throttled commit strategy commits in offset order).
     */
    @WithDefault("64")
    int inFlight();

    /**
     * On shutdown the policy takes no further record and waits this long for the records in flight to be
     * acknowledged, so that their offsets are committed and another instance does not decide them again.
     */
    @WithDefault("10s")
    java.time.Duration shutdownGrace();

    /** Delivery status notifications for recipients refused after acceptance. */
    DsnSettings dsn();

    interface DsnSettings {
        /** Our name in Reporting-MTA and in {@code MAILER-DAEMON@<name>}; default: this machine's host name. */
        Optional<String> reportingMta();

        /** The largest original returned in full when the sender asked for RET=FULL; larger: headers only. */
        @WithDefault("1048576")
        long maxFullOriginal();
    }

    /** Topic names; application.properties maps the messaging channels to them (the same keys). */
    TopicNames topics();

    interface TopicNames {
        @WithDefault("relay.inbound.v1")
        String inbound();

        @WithDefault("relay.outbound.v1")
        String outbound();

        @WithDefault("relay.events.v1")
        String events();

        @WithDefault("relay.dlq.v1")
        String dlq();

        /** Messages held by a rate limit, with their re-check time (see {@link LimitSettings}). */
        @WithDefault("relay.held.v1")
        String held();
    }

    /** Holding and releasing messages that exceed a rate limit after acceptance. */
    LimitSettings limits();

    interface LimitSettings {
        /**
         * How long a held message waits before it is re-checked. One fixed delay, so due times on the held topic
         * never decrease within a partition (what the due-time consumer needs).
         */
        @WithDefault("30s")
        java.time.Duration recheck();

        /** Consumer group of the held-message releasers (all policy instances share the held topic's work). */
        @WithDefault("relay-policy-held")
        String heldGroup();
    }

    /** DKIM signing keys (which mail is signed is the rule set's {@code dkim} section). */
    DkimSettings dkim();

    interface DkimSettings {
        /**
         * Directory of signing keys: {@code <domain>/<selector>.pem}, unencrypted PKCS#8 PEM, RSA of at least 2048
         * bits or Ed25519; in Kubernetes one Secret per domain mounted at {@code <keys-dir>/<domain>}.
         */
        @WithDefault("/etc/relay/dkim")
        String keysDir();

        /** How often the key directory is read again: new, changed and removed keys take effect without a restart. */
        @WithDefault("1m")
        java.time.Duration reloadPeriod();
    }

    /** The suppression list as the admin API sees and edits it (docs/adr/0015). */
    SuppressionSettings suppression();

    interface SuppressionSettings {
        /** The compacted topic shared with the delivery service. */
        @WithDefault("relay.suppression.v1")
        String topic();

        /** Entries this instance holds for the API (about 300 bytes each, at most about 900 bytes). */
        @WithDefault("100000")
        int maxEntries();

        /** The longest ttl an administrator may give an entry ({@code POST /api/suppressions}). */
        @WithDefault("365d")
        java.time.Duration maxTtl();

        /** The largest page {@code GET /api/suppressions} answers. */
        @WithDefault("100")
        int maxPageSize();
    }

    /** The message trace ({@code /api/messages}, docs/adr/0020): a Kafka Streams state store fed by the events. */
    TraceSettings trace();

    interface TraceSettings {
        /** How long a trace is kept after its latest event; older events are not taken in at all. */
        @WithDefault("7d")
        java.time.Duration retention();

        /** How often each instance removes its traces older than the retention. */
        @WithDefault("1m")
        java.time.Duration purgeInterval();

        /** Events kept per message; later ones are counted (the trace says how many) but not kept. */
        @WithDefault("100")
        int maxEvents();

        /** The largest page {@code GET /api/messages} answers. */
        @WithDefault("100")
        int maxPageSize();

        /** How long a request waits for another policy instance that owns a trace or takes part in a search. */
        @WithDefault("5s")
        java.time.Duration peerTimeout();

        /**
         * {@code host:port} at which the other policy instances reach this one's HTTP API (Kafka Streams'
         * {@code application.server}; in Kubernetes the pod IP from the downward API). Absent: this instance is
         * taken to be alone and answers every trace question from its own part of the store.
         */
        Optional<String> endpoint();

        /**
         * Where the store's RocksDB files live: a writable volume of this instance alone; kept across restarts it
         * spares most of the changelog restore. Absent: a new directory under the temporary directory per process
         * (every start restores the store from its changelog).
         */
        Optional<String> stateDir();
    }

    /** Webhooks (docs/adr/0021): subscriptions on a compacted topic, events POSTed signed, retries through Kafka. */
    WebhookSettings webhooks();

    interface WebhookSettings {
        /** Whether this instance dispatches events to the subscriptions (the API works either way). */
        @WithDefault("true")
        boolean enabled();

        /** The compacted topic of the subscriptions (key = id, tombstone = deleted); it holds the secrets. */
        @WithDefault("relay.webhooks.v1")
        String topic();

        /** Failed POSTs waiting for their next attempt, with attempt count and due time. */
        @WithDefault("relay.webhooks.retry.v1")
        String retryTopic();

        /** Events given up on (after max-attempts, or at once on a 4xx other than 429), per subscription. */
        @WithDefault("relay.webhooks.dead.v1")
        String deadTopic();

        /** Consumer group of the dispatchers of the events topic (all policy instances share the work). */
        @WithDefault("relay-policy-webhooks")
        String group();

        /** Consumer group of the retriers of the retry topic. */
        @WithDefault("relay-policy-webhooks-retry")
        String retryGroup();

        /** Subscriptions the cluster may hold; {@code POST /api/webhooks} answers 400 beyond. */
        @WithDefault("50")
        int maxSubscriptions();

        /** The longest one POST may take (connect, send, answer), whatever the receiver does. */
        @WithDefault("10s")
        java.time.Duration timeout();

        /** Waits before the 2nd, 3rd, ... attempt; the last one repeats for later attempts. */
        @WithDefault("10s,1m,10m,1h")
        java.util.List<java.time.Duration> backoff();

        /** Attempts of one event to one subscription (the first included) before it is dead-lettered. */
        @WithDefault("5")
        int maxAttempts();

        /** Dead letters kept (and shown by the API) per subscription: the latest ones. */
        @WithDefault("100")
        int maxDeadLetters();

        /** Whether http:// URLs are accepted (tests only); otherwise only https://. */
        @WithDefault("false")
        boolean allowHttp();
    }
}
