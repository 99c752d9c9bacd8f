package dev.relay.common.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Default topic names and record header names shared by all services (see docs/architecture.md, "Topics"). */
public final class Topics {

    public static final String INBOUND = "relay.inbound.v1";
    public static final String OUTBOUND = "relay.outbound.v1";
    /** Prefix of the retry tiers: one topic per distinct delay of the retry schedule, {@link #retryTier}. */
    public static final String RETRY_PREFIX = "relay.retry.v1";
    /** The default retry schedule of the delivery service ({@code relay.delivery.retry.schedule}). */
    public static final List<Duration> DEFAULT_RETRY_SCHEDULE = List.of(Duration.ofMinutes(1), Duration.ofMinutes(5),
            Duration.ofMinutes(15), Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(2),
            Duration.ofHours(4), Duration.ofHours(8));
    public static final String EVENTS = "relay.events.v1";
    public static final String RULES = "relay.rules.v1";
    public static final String DLQ = "relay.dlq.v1";
    /**
     * The suppression list: compacted, key = lower-cased recipient address, value = JSON entry, tombstone =
     * removal ({@code dev.relay.common.suppression}).
     */
    public static final String SUPPRESSION = "relay.suppression.v1";
    /**
     * TLS-RPT (RFC 8460): each MX delivery attempt's TLS outcome and the "sent" markers of reports, key = policy
     * domain, value = JSON; 2 days retention (delivery's {@code dev.relay.delivery.tlsrpt}).
     */
    public static final String TLSRPT = "relay.tlsrpt.v1";
    /** Webhook subscriptions: compacted, key = subscription id, value = JSON with its secret, tombstone = deleted. */
    public static final String WEBHOOKS = "relay.webhooks.v1";
    /** Webhook POSTs waiting for another attempt (policy's {@code dev.relay.policy.webhook}). */
    public static final String WEBHOOKS_RETRY = "relay.webhooks.retry.v1";
    /** Webhook events given up on, key = subscription id; 7 days retention. */
    public static final String WEBHOOKS_DEAD = "relay.webhooks.dead.v1";

    /**
     * Operator commands for the delivery workers (retry now, bounce, delete), key = command id, value = JSON
     * ({@code dev.relay.common.control.QueueCommand}); every worker follows all of it. 7 days retention.
     */
    public static final String CONTROL = "relay.control.v1";
    /**
     * Held destinations: compacted, key = recipient domain, value = JSON
     * ({@code dev.relay.common.control.DestinationHold}); every worker follows all of it.
     */
    public static final String HOLDS = "relay.holds.v1";

    /** Record header holding the {@link dev.relay.common.envelope.Envelope} as JSON. */
    public static final String ENVELOPE_HEADER = "relay-envelope";

    private Topics() {
    }

    /**
     * The retry tier for a delay: {@code prefix.<delay>} with the delay in its largest whole unit, e.g.
     * {@code relay.retry.v1.5m}, {@code relay.retry.v1.8h}, {@code relay.retry.v1.90s}. Every record of a tier
     * waits the same time, so due times within one partition never decrease.
     */
    public static String retryTier(String prefix, Duration delay) {
        return prefix + "." + delayLabel(delay);
    }

    /** The distinct tiers of a schedule, in schedule order. */
    public static List<String> retryTiers(String prefix, List<Duration> schedule) {
        List<String> tiers = new ArrayList<>();
        for (Duration delay : schedule) {
            String tier = retryTier(prefix, delay);
            if (!tiers.contains(tier)) {
                tiers.add(tier);
            }
        }
        return tiers;
    }

    /** {@code 1d}, {@code 8h}, {@code 5m}, {@code 90s}, {@code 1500ms}: bounded, readable, valid in topic names. */
    public static String delayLabel(Duration delay) {
        if (delay.isNegative() || delay.isZero()) {
            throw new IllegalArgumentException("a retry delay must be positive, was " + delay);
        }
        long ms = delay.toMillis();
        long[] units = {86_400_000L, 3_600_000L, 60_000L, 1_000L};
        String[] names = {"d", "h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (ms % units[i] == 0) {
                return ms / units[i] + names[i];
            }
        }
        return ms + "ms";
    }
}
