package dev.relay.delivery.retry;

import dev.relay.common.dsn.DsnComposer;
import dev.relay.common.dsn.RecipientStatus;
import dev.relay.common.envelope.DeliveryHistory;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.delivery.outcome.DsnReport;
import dev.relay.delivery.outcome.RecipientResult;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one delivery attempt of one record leads to, decided without I/O: which recipients are delivered,
 * bounced (5yz), deferred to a retry tier or expired (4yz after max-age), whether a retry record is due (with
 * its tier, due time and history) and which recipients the DSN reports on (failed, expired, delayed, and the
 * successes NOTIFY=SUCCESS asked for). The DSN statuses still pass the NOTIFY filter of the composer; the null
 * sender never gets one.
 *
 * <p>Success (RFC 3461 §4.1, §5.2.2): a delivered recipient whose NOTIFY names SUCCESS is reported by us only when
 * the server that took it did not offer DSN (its NOTIFY could not go on): {@code delivered} on a LOCAL route (the
 * mailbox route is the recipient's mailbox store), {@code relayed} elsewhere. When the server offered DSN the
 * NOTIFY went on with the recipient and reporting is that server's duty: nothing from us.
 *
 * @param retry          the retry record for the deferred recipients, empty when none are left
 * @param dsn            what a DSN to the sender would report, in recipient order
 * @param willRetryUntil when deferred recipients will be given up on (for a delayed DSN)
 */
public record AttemptPlan(List<RecipientResult> delivered, List<RecipientResult> bounced,
                          List<RecipientResult> deferred, List<RecipientResult> expired, Optional<Retry> retry,
                          List<RecipientStatus> dsn, Instant willRetryUntil) {

    /**
     * @param topic    the tier topic
     * @param dueAt    failure time + the tier's delay
     * @param envelope only the deferred recipients, attempts + 1, the updated history
     */
    public record Retry(String topic, Instant dueAt, Envelope envelope) {
    }

    public static AttemptPlan decide(Envelope envelope, List<RecipientResult> results, RetryPolicy policy,
                                     Instant now) {
        List<RecipientResult> delivered = new ArrayList<>();
        List<RecipientResult> bounced = new ArrayList<>();
        List<RecipientResult> transients = new ArrayList<>();
        for (RecipientResult r : results) {
            switch (r.status()) {
                case DELIVERED -> delivered.add(r);
                case PERMANENT -> bounced.add(r);
                case TRANSIENT -> transients.add(r);
            }
        }
        boolean expiredNow = !transients.isEmpty() && policy.expired(envelope, now);
        List<RecipientResult> deferred = expiredNow ? List.of() : transients;
        List<RecipientResult> expired = expiredNow ? transients : List.of();
        boolean delayNotice = !deferred.isEmpty() && policy.delayNoticeDue(envelope, now);

        List<RecipientStatus> dsn = new ArrayList<>();
        bounced.forEach(r -> dsn.add(DsnReport.failed(r)));
        expired.forEach(r -> dsn.add(DsnReport.expired(r)));
        if (delayNotice) {
            deferred.forEach(r -> dsn.add(DsnReport.delayed(r)));
        }
        boolean finalMailbox = envelope.route() != null && envelope.route().kind() == Route.Kind.LOCAL;
        for (RecipientResult r : delivered) {
            if (!r.dsnPassedOn() && DsnComposer.notifies(envelope, r.recipient(), "SUCCESS")) {
                dsn.add(DsnReport.succeeded(r, finalMailbox));
            }
        }

        Optional<Retry> retry = Optional.empty();
        if (!deferred.isEmpty()) {
            int failedAttempts = envelope.attempts() + 1;
            DeliveryHistory before = envelope.history();
            Map<String, DeliveryHistory.LastReply> last = new LinkedHashMap<>();
            deferred.forEach(r -> last.put(r.recipient(), new DeliveryHistory.LastReply(r.detail(), r.remote())));
            DeliveryHistory history = new DeliveryHistory(
                    before == null ? now.toEpochMilli() : before.firstAttemptAt(), now.toEpochMilli(), last,
                    delayNotice || (before != null && before.delayNotified()));
            retry = Optional.of(new Retry(policy.tierAfter(failedAttempts),
                    now.plus(policy.delayAfter(failedAttempts)),
                    envelope.nextAttempt(deferred.stream().map(RecipientResult::recipient).toList(), history)));
        }
        return new AttemptPlan(List.copyOf(delivered), List.copyOf(bounced), List.copyOf(deferred),
                List.copyOf(expired), retry, List.copyOf(dsn), policy.expiresAt(envelope, now));
    }
}
