package dev.relay.delivery.messaging;

import dev.relay.common.event.RelayEvent;
import dev.relay.delivery.dsn.BounceNotifier;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.delivery.retry.KafkaRetryPublisher;
import dev.relay.delivery.transport.DeliveryStatus;
import dev.relay.delivery.transport.RecipientResult;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Makes the result of one delivery attempt durable: a {@code delivered}, {@code deferred} or {@code bounced}
 * event per group of recipients that share result, remote host and reply; a retry record for the deferred
 * recipients; an RFC 3464 DSN to the envelope sender for the permanently failed recipients
 * ({@link BounceNotifier}, never for the null sender). Completes only when Kafka acknowledged all of it.
 */
@ApplicationScoped
public class OutcomePublisher {

    private final KafkaEventPublisher events;
    private final KafkaRetryPublisher retry;
    private final DeliveryMetrics metrics;
    private final BounceNotifier bounces;

    public OutcomePublisher(KafkaEventPublisher events, KafkaRetryPublisher retry, DeliveryMetrics metrics,
                            BounceNotifier bounces) {
        this.events = events;
        this.retry = retry;
        this.metrics = metrics;
        this.bounces = bounces;
    }

    public CompletionStage<Void> publish(OutboundRecord record, List<RecipientResult> results) {
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        List<String> deferred = results.stream().filter(r -> r.status().isTransient())
                .map(RecipientResult::recipient).toList();
        if (!deferred.isEmpty()) {
            acks.add(retry.publish(record.key(), record.envelope(), deferred, record.data(), record.headers())
                    .toCompletableFuture());
        }
        List<RecipientResult> failed = results.stream().filter(r -> r.status().isPermanent()).toList();
        if (!failed.isEmpty()) {
            acks.add(bounces.publish(record.envelope(), record.data(), failed).toCompletableFuture());
        }
        for (Map.Entry<Group, List<String>> group : groups(results).entrySet()) {
            Group g = group.getKey();
            acks.add(events.publish(RelayEvent.of(DeliveryMetrics.result(g.status()), record.envelope().messageId(),
                    KafkaEventPublisher.SERVICE, group.getValue(), g.detail(), g.remote())).toCompletableFuture());
        }
        for (DeliveryStatus status : DeliveryStatus.values()) {
            long count = results.stream().filter(r -> r.status() == status).count();
            if (count > 0) {
                metrics.attempted(status, (int) count);
            }
        }
        return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
    }

    private record Group(DeliveryStatus status, String remote, String detail) {
    }

    private static Map<Group, List<String>> groups(List<RecipientResult> results) {
        Map<Group, List<String>> groups = new LinkedHashMap<>();
        for (RecipientResult r : results) {
            groups.computeIfAbsent(new Group(r.status(), Objects.toString(r.remote(), null), r.detail()),
                    g -> new ArrayList<>()).add(r.recipient());
        }
        return groups;
    }
}
