package dev.relay.delivery.messaging;

import dev.relay.common.event.RelayEvent;
import dev.relay.delivery.dsn.BounceNotifier;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.delivery.retry.AttemptPlan;
import dev.relay.delivery.retry.KafkaRetryPublisher;
import dev.relay.delivery.retry.RetryPolicy;
import dev.relay.delivery.retry.WaitingMessages;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.suppression.SuppressionWriter;
import dev.relay.delivery.tlsrpt.TlsRptRecorder;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Makes the result of one delivery attempt durable, as {@link AttemptPlan} decided it: a {@code delivered},
 * {@code deferred}, {@code bounced} or {@code expired} event per group of recipients that share result, remote
 * host and reply; a retry record for the deferred recipients on the tier of this attempt; one RFC 3464 DSN to
 * the envelope sender for the bounced, expired and (delay notices) delayed recipients ({@link BounceNotifier},
 * never for the null sender); the suppression entries its hard bounces call for ({@link SuppressionWriter}). A
 * recipient not attempted because it is suppressed gets the event {@code suppressed} (not {@code bounced}) and
 * the usual DSN. Completes only when Kafka acknowledged all of it. With TLS-RPT on, the attempt's TLS outcome is
 * also written to the TLS-RPT topic, best effort ({@link TlsRptRecorder}).
 */
@ApplicationScoped
public class OutcomePublisher {

    private final KafkaEventPublisher events;
    private final KafkaRetryPublisher retry;
    private final DeliveryMetrics metrics;
    private final BounceNotifier bounces;
    private final RetryPolicy policy;
    private final WaitingMessages waiting;
    private final SuppressionWriter suppressions;
    private final TlsRptRecorder tlsrpt;
    private final Clock clock = Clock.systemUTC();

    public OutcomePublisher(KafkaEventPublisher events, KafkaRetryPublisher retry, DeliveryMetrics metrics,
                            BounceNotifier bounces, RetryPolicy policy, WaitingMessages waiting,
                            SuppressionWriter suppressions, TlsRptRecorder tlsrpt) {
        this.tlsrpt = tlsrpt;
        this.waiting = waiting;
        this.suppressions = suppressions;
        this.events = events;
        this.retry = retry;
        this.metrics = metrics;
        this.bounces = bounces;
        this.policy = policy;
    }

    public CompletionStage<Void> publish(OutboundRecord record, List<RecipientResult> results) {
        Instant now = clock.instant();
        tlsrpt.record(results); // best effort, not part of the outcome (docs/adr/0016)
        AttemptPlan plan = AttemptPlan.decide(record.envelope(), results, policy, now);
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        plan.retry().ifPresent(r -> acks.add(retry.publish(record.key(), r, record.data(), record.headers())
                .thenRun(() -> waiting.deferred(record.key(), r.envelope().receivedAt(), r.dueAt().toEpochMilli()))
                .toCompletableFuture()));
        acks.add(suppressions.record(results).toCompletableFuture());
        if (!plan.dsn().isEmpty()) {
            acks.add(bounces.publish(record.envelope(), record.data(), plan.dsn(), plan.willRetryUntil())
                    .toCompletableFuture());
        }
        int attempt = record.envelope().attempts() + 1;
        long latency = record.envelope().receivedAt() > 0 ? Math.max(0, now.toEpochMilli()
                - record.envelope().receivedAt()) : 0;
        for (Map.Entry<Group, List<String>> group : groups(plan).entrySet()) {
            Group g = group.getKey();
            RelayEvent event = RelayEvent.of(g.type(), record.envelope().messageId(), KafkaEventPublisher.SERVICE,
                    group.getValue(), g.detail(), g.remote()).withDelivery(attempt, g.tls(), latency)
                    .withMtaSts(g.mtaSts()).withTlsPolicy(g.tlsPolicy());
            acks.add(events.publish(event).toCompletableFuture());
        }
        count(plan, record.envelope().receivedAt(), now.toEpochMilli());
        return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
    }

    private void count(AttemptPlan plan, long receivedAt, long now) {
        if (!plan.delivered().isEmpty()) {
            metrics.attempted(DeliveryStatus.DELIVERED, plan.delivered().size());
            plan.delivered().forEach(r -> metrics.delivered(receivedAt, now));
        }
        long attemptedBounces = plan.bounced().stream().filter(r -> !suppressed(r)).count();
        if (attemptedBounces > 0) {
            metrics.attempted(DeliveryStatus.PERMANENT, (int) attemptedBounces);
        }
        if (!plan.deferred().isEmpty()) {
            metrics.attempted(DeliveryStatus.TRANSIENT, plan.deferred().size());
        }
        if (!plan.expired().isEmpty()) {
            metrics.expired(plan.expired().size());
        }
    }

    private record Group(String type, String remote, String detail, RelayEvent.Tls tls, RelayEvent.MtaSts mtaSts,
                         RelayEvent.TlsPolicy tlsPolicy) {
    }

    private static Map<Group, List<String>> groups(AttemptPlan plan) {
        Map<Group, List<String>> groups = new LinkedHashMap<>();
        add(groups, DeliveryMetrics.result(DeliveryStatus.DELIVERED), plan.delivered());
        add(groups, DeliveryMetrics.result(DeliveryStatus.PERMANENT), plan.bounced());
        add(groups, DeliveryMetrics.result(DeliveryStatus.TRANSIENT), plan.deferred());
        add(groups, DeliveryMetrics.EXPIRED, plan.expired());
        return groups;
    }

    private static void add(Map<Group, List<String>> groups, String type, List<RecipientResult> results) {
        for (RecipientResult r : results) {
            RelayEvent.MtaSts sts = r.mtaSts() == null ? null
                    : new RelayEvent.MtaSts(r.mtaSts().mode(), r.mtaSts().result());
            groups.computeIfAbsent(new Group(suppressed(r) ? SUPPRESSED : type, Objects.toString(r.remote(), null),
                    r.detail(), tls(r), sts, tlsPolicy(r)), g -> new ArrayList<>()).add(r.recipient());
        }
    }

    /** The event type of a recipient not attempted because it is on the suppression list. */
    public static final String SUPPRESSED = "suppressed";

    private static boolean suppressed(RecipientResult r) {
        return r.diagnostic().phase() == Phase.SUPPRESSED;
    }

    /** The outbound TLS decision of the attempt that gave this result; null when none was made. */
    private static RelayEvent.TlsPolicy tlsPolicy(RecipientResult r) {
        return r.tlsDecision() == null ? null
                : new RelayEvent.TlsPolicy(r.tlsDecision().policy(), r.tlsDecision().source(), r.tlsDecision().dane());
    }

    /** TLS protocol and cipher of the session that gave this result; null on plain text or without a session. */
    private static RelayEvent.Tls tls(RecipientResult r) {
        return r.tlsProtocol() == null ? null : new RelayEvent.Tls(r.tlsProtocol(), r.tlsCipher());
    }
}
