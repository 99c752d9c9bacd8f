package dev.relay.delivery.metrics;

import dev.relay.delivery.outcome.DeliveryStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Every metric of the delivery service, in one place. Tags are bounded: never an address, domain or host.
 * <ul>
 *   <li>{@code relay.delivery.attempts{result=delivered|deferred|bounced}}: counter, one per recipient per
 *       delivery attempt.</li>
 *   <li>{@code relay.delivery.duration}: timer, one outbound record from receipt to durable outcome
 *       (routing, SMTP, events and retry acknowledged).</li>
 *   <li>{@code relay.delivery.dlq}: counter, undecodable records moved to the dead-letter topic.</li>
 *   <li>{@code relay.delivery.attempts{result=expired}}: recipients given up on after the retry max-age (their
 *       last attempt counts here instead of as deferred).</li>
 *   <li>{@code relay.delivery.latency}: timer with histogram, per delivered recipient, from the message's
 *       receipt (250 at the ingress) to the remote 250.</li>
 *   <li>{@code relay.delivery.retry.backlog{tier=1m|5m|...}}: gauge, records on each retry tier not yet done
 *       (consumer lag of the retry group as this instance sees it; one series per configured tier).</li>
 *   <li>{@code relay.delivery.retry.oldest.age}: gauge, seconds, the age (since receipt) of the oldest message
 *       this instance has seen waiting on a retry tier and not yet finished with.</li>
 *   <li>{@code relay.delivery.dsn{kind=failed|expired|delayed}}: counter, DSNs acknowledged by Kafka, per kind
 *       of recipient they report on.</li>
 *   <li>{@code relay.delivery.dsn.suppressed}: counter, DSNs not sent because nobody vouched for the sender
 *       (neither authenticated nor from a trusted network: mail received at the MX role); no backscatter.</li>
 *   <li>{@code relay.delivery.draining}: gauge, 1 while the instance drains for shutdown.</li>
 *   <li>{@code relay.delivery.suppressed}: counter, recipients not attempted because they are on the
 *       suppression list; {@code relay.delivery.suppressions.added}: entries this instance wrote after a hard
 *       bounce; {@code relay.delivery.suppression.entries}: gauge, entries this instance holds;
 *       {@code relay.delivery.suppression.evicted}: entries dropped because the list was full;
 *       {@code relay.delivery.suppression.tombstoned}: tombstones this instance wrote for expired entries.</li>
 *   <li>{@code relay.delivery.success.dsns{action=delivered|relayed}}: counter, success DSNs (NOTIFY=SUCCESS)
 *       acknowledged by Kafka.</li>
 * </ul>
 */
@Startup // registered at boot, so every series is scraped as 0 before the first record arrives
@ApplicationScoped
public class DeliveryMetrics {

    public static final String ATTEMPTS = "relay.delivery.attempts";
    public static final String DURATION = "relay.delivery.duration";
    public static final String DLQ = "relay.delivery.dlq";
    public static final String LATENCY = "relay.delivery.latency";
    public static final String RETRY_BACKLOG = "relay.delivery.retry.backlog";
    public static final String RETRY_OLDEST_AGE = "relay.delivery.retry.oldest.age";
    public static final String DSN = "relay.delivery.dsn";
    public static final String DSN_SUPPRESSED = "relay.delivery.dsn.suppressed";
    public static final String DRAINING = "relay.delivery.draining";
    public static final String SUPPRESSED = "relay.delivery.suppressed";
    public static final String SUPPRESSIONS_ADDED = "relay.delivery.suppressions.added";
    public static final String SUPPRESSION_ENTRIES = "relay.delivery.suppression.entries";
    public static final String SUPPRESSION_EVICTED = "relay.delivery.suppression.evicted";
    public static final String SUPPRESSION_TOMBSTONED = "relay.delivery.suppression.tombstoned";
    public static final String SUCCESS_DSNS = "relay.delivery.success.dsns";
    public static final String SUCCESS_DELIVERED = "delivered";
    public static final String SUCCESS_RELAYED = "relayed";

    public static final String EXPIRED = "expired";
    public static final String DSN_FAILED = "failed";
    public static final String DSN_EXPIRED = "expired";
    public static final String DSN_DELAYED = "delayed";

    private final MeterRegistry registry;
    private final Map<DeliveryStatus, Counter> attempts = new EnumMap<>(DeliveryStatus.class);
    private final Timer duration;
    private final Counter dlq;
    private final Counter expired;
    private final Timer latency;
    private final Map<String, Counter> dsn = new ConcurrentHashMap<>();
    private final Counter dsnSuppressed;
    private final Counter suppressed;
    private final Counter suppressionsAdded;
    private final Counter suppressionsTombstoned;
    private final Map<String, Counter> successDsns = new ConcurrentHashMap<>();

    public DeliveryMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (DeliveryStatus status : DeliveryStatus.values()) {
            attempts.put(status, Counter.builder(ATTEMPTS)
                    .description("Recipient delivery attempts by result")
                    .tag("result", result(status))
                    .register(registry));
        }
        this.duration = Timer.builder(DURATION)
                .description("Time from receiving an outbound record to its durable outcome")
                .register(registry);
        this.dlq = Counter.builder(DLQ)
                .description("Undecodable records moved to the dead-letter topic")
                .register(registry);
        this.expired = Counter.builder(ATTEMPTS)
                .description("Recipient delivery attempts by result")
                .tag("result", EXPIRED)
                .register(registry);
        this.latency = Timer.builder(LATENCY)
                .description("Time from receiving a message to its delivery, per recipient")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(100))
                .maximumExpectedValue(Duration.ofDays(5))
                .register(registry);
        for (String kind : List.of(DSN_FAILED, DSN_EXPIRED, DSN_DELAYED)) {
            dsn.put(kind, Counter.builder(DSN)
                    .description("Delivery status notifications sent, by kind")
                    .tag("kind", kind)
                    .register(registry));
        }
        this.dsnSuppressed = Counter.builder(DSN_SUPPRESSED)
                .description("DSNs not sent because the sender was neither authenticated nor trusted")
                .register(registry);
        this.suppressed = Counter.builder(SUPPRESSED)
                .description("Recipients not attempted because they are on the suppression list")
                .register(registry);
        this.suppressionsAdded = Counter.builder(SUPPRESSIONS_ADDED)
                .description("Suppression entries written after a hard bounce")
                .register(registry);
        this.suppressionsTombstoned = Counter.builder(SUPPRESSION_TOMBSTONED)
                .description("Tombstones written for expired suppression entries")
                .register(registry);
        for (String action : List.of(SUCCESS_DELIVERED, SUCCESS_RELAYED)) {
            successDsns.put(action, Counter.builder(SUCCESS_DSNS)
                    .description("Success DSNs (NOTIFY=SUCCESS) sent, by action")
                    .tag("action", action)
                    .register(registry));
        }
    }

    /** The event and tag name of a status: delivered, deferred (transient) or bounced (permanent). */
    public static String result(DeliveryStatus status) {
        return switch (status) {
            case DELIVERED -> "delivered";
            case TRANSIENT -> "deferred";
            case PERMANENT -> "bounced";
        };
    }

    public void attempted(DeliveryStatus status, int recipients) {
        attempts.get(status).increment(recipients);
    }

    public Timer.Sample start() {
        return Timer.start(registry);
    }

    public void finished(Timer.Sample sample) {
        sample.stop(duration);
    }

    public void deadLettered() {
        dlq.increment();
    }

    public void expired(int recipients) {
        expired.increment(recipients);
    }

    /** One delivered recipient of a message received at {@code receivedAt} (epoch ms; 0 = unknown). */
    public void delivered(long receivedAt, long now) {
        if (receivedAt > 0 && now >= receivedAt) {
            latency.record(Duration.ofMillis(now - receivedAt));
        }
    }

    /** A DSN that was due but not sent: the sender was not vouched for (see {@code BounceNotifier}). */
    public void dsnSuppressed() {
        dsnSuppressed.increment();
    }

    public void dsnSent(String kind) {
        Counter c = dsn.get(kind);
        if (c != null) {
            c.increment();
        }
    }

    public void suppressed(int recipients) {
        suppressed.increment(recipients);
    }

    public void suppressionsAdded(int entries) {
        suppressionsAdded.increment(entries);
    }

    public void suppressionsTombstoned(int entries) {
        suppressionsTombstoned.increment(entries);
    }

    public void successDsnSent(String action) {
        Counter c = successDsns.get(action);
        if (c != null) {
            c.increment();
        }
    }

    /** The suppression list's size and evictions, read at scrape time. */
    public void suppressionList(Supplier<Number> entries, Supplier<Number> evicted) {
        Gauge.builder(SUPPRESSION_ENTRIES, entries).description("Suppression entries held by this instance")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(SUPPRESSION_EVICTED, evicted,
                        e -> e.get().doubleValue())
                .description("Suppression entries evicted because the list was full").register(registry);
    }

    /** The backlog gauge of one retry tier; {@code tier} is the tier's delay label, bounded by configuration. */
    public void retryBacklog(String tier, Supplier<Number> records) {
        Gauge.builder(RETRY_BACKLOG, records).description("Records on a retry tier not yet done")
                .tag("tier", tier).register(registry);
    }

    public void retryOldestAge(Supplier<Number> seconds) {
        Gauge.builder(RETRY_OLDEST_AGE, seconds).description("Age of the oldest message waiting on a retry tier")
                .baseUnit("seconds").register(registry);
    }

    public void draining(Supplier<Number> flag) {
        Gauge.builder(DRAINING, flag).description("1 while draining for shutdown").register(registry);
    }
}
