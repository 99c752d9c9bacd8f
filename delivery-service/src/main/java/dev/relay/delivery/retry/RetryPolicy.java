package dev.relay.delivery.retry;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.kafka.Topics;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * When to try again, when to give up and when to tell the sender about a delay. Pure: no clock, no I/O.
 *
 * <p>After the n-th failed attempt a record waits {@code schedule[min(n-1, last)]} on that delay's tier topic
 * (Haraka and Postfix style: an explicit list of intervals, the last one repeating). A message expires at the
 * first failed attempt at or after {@code maxAge} from its receipt, so the real lifetime is at most
 * {@code maxAge} plus the longest step (Postfix's {@code maximal_queue_lifetime} works the same way).
 */
public final class RetryPolicy {

    private final List<Duration> schedule;
    private final Duration maxAge;
    private final Optional<Duration> delayNoticeAfter;
    private final String topicPrefix;

    public RetryPolicy(List<Duration> schedule, Duration maxAge, Optional<Duration> delayNoticeAfter,
                       String topicPrefix) {
        if (schedule == null || schedule.isEmpty()) {
            throw new IllegalArgumentException("relay.delivery.retry.schedule must name at least one delay");
        }
        schedule.forEach(Topics::delayLabel); // refuses zero and negative delays
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("relay.delivery.retry.max-age must be positive, was " + maxAge);
        }
        delayNoticeAfter.filter(d -> d.isNegative() || d.isZero()).ifPresent(d -> {
            throw new IllegalArgumentException("relay.delivery.delay-notice.after must be positive, was " + d);
        });
        if (topicPrefix == null || !topicPrefix.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("relay.delivery.retry.topic-prefix is not a topic name: "
                    + topicPrefix);
        }
        this.schedule = List.copyOf(schedule);
        this.maxAge = maxAge;
        this.delayNoticeAfter = delayNoticeAfter;
        this.topicPrefix = topicPrefix;
    }

    /** All tier topics, in schedule order, each once. */
    public List<String> tiers() {
        return Topics.retryTiers(topicPrefix, schedule);
    }

    /** The wait after the {@code failedAttempts}-th failed attempt (1 = the first). */
    public Duration delayAfter(int failedAttempts) {
        return schedule.get(Math.min(Math.max(failedAttempts, 1), schedule.size()) - 1);
    }

    public String tierAfter(int failedAttempts) {
        return Topics.retryTier(topicPrefix, delayAfter(failedAttempts));
    }

    /** The bounded tag value of a tier topic ({@code 5m}), for metrics. */
    public String tierLabel(String topic) {
        return topic.startsWith(topicPrefix + ".") ? topic.substring(topicPrefix.length() + 1) : "other";
    }

    /** The time the message's age counts from: its receipt, else (older records) the first attempt. */
    static Instant since(Envelope e, Instant now) {
        if (e.receivedAt() > 0) {
            return Instant.ofEpochMilli(e.receivedAt());
        }
        return e.history() != null ? Instant.ofEpochMilli(e.history().firstAttemptAt()) : now;
    }

    public Instant expiresAt(Envelope e, Instant now) {
        return since(e, now).plus(maxAge);
    }

    /** A transient failure now means giving up. */
    public boolean expired(Envelope e, Instant now) {
        return !now.isBefore(expiresAt(e, now));
    }

    /** A "delayed" DSN is due: enabled, not sent before for this record, and the message waited long enough. */
    public boolean delayNoticeDue(Envelope e, Instant now) {
        if (delayNoticeAfter.isEmpty() || (e.history() != null && e.history().delayNotified())) {
            return false;
        }
        return !now.isBefore(since(e, now).plus(delayNoticeAfter.get()));
    }
}
