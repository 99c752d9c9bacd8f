package dev.relay.delivery.messaging;

import dev.relay.delivery.HopDeliverer;
import dev.relay.delivery.config.DeliveryConfig;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.delivery.transport.DeliveryStatus;
import dev.relay.delivery.transport.RecipientResult;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Consumes relay.outbound.v1 (channel {@code outbound}). Order of work for one record:
 * <ol>
 *   <li>wait for a free delivery slot ({@code relay.delivery.concurrency}); the returned stage completes here,
 *       so up to that many records are delivered at once;</li>
 *   <li>decode; an undecodable record goes to the dead-letter topic and is acknowledged;</li>
 *   <li>deliver (route + SMTP), every recipient gets a result;</li>
 *   <li>publish events and the retry record and wait for Kafka's acknowledgement;</li>
 *   <li>only then acknowledge the record. The throttled commit strategy commits an offset once every record
 *       before it is acknowledged, so out-of-order completion never commits past an unfinished record.</li>
 * </ol>
 * If making the outcome durable fails, the record is nacked: the failure strategy {@code fail} stops the
 * consumer and marks it unhealthy, and the uncommitted record is delivered again after a restart. A duplicate
 * delivery is possible then; a loss is not.
 */
@Startup // built at boot with the delivery core, so that bad configuration fails the start
@ApplicationScoped
public class OutboundConsumer {

    private static final Logger LOG = Logger.getLogger(OutboundConsumer.class);
    static final String MDC_MESSAGE_ID = "messageId";

    private final HopDeliverer deliverer;
    private final OutcomePublisher outcomes;
    private final KafkaDlqPublisher dlq;
    private final DeliveryMetrics metrics;
    private final InFlightLimit limit;

    public OutboundConsumer(HopDeliverer deliverer, OutcomePublisher outcomes, KafkaDlqPublisher dlq,
                            DeliveryMetrics metrics, DeliveryConfig config) {
        this.deliverer = deliverer;
        this.outcomes = outcomes;
        this.dlq = dlq;
        this.metrics = metrics;
        this.limit = new InFlightLimit(config.concurrency());
    }

    @Incoming("outbound")
    public CompletionStage<Void> consume(Message<byte[]> message) {
        return limit.acquire().thenRun(() -> {
            CompletionStage<Void> done;
            try {
                done = handle(message);
            } catch (RuntimeException e) { // a bug: keep the record uncommitted and the slot free
                done = message.nack(e);
            }
            done.whenComplete((v, err) -> limit.release());
        });
    }

    private CompletionStage<Void> handle(Message<byte[]> message) {
        OutboundRecordDecoder.Decoded decoded;
        try {
            decoded = OutboundRecordDecoder.decode(message);
        } catch (RuntimeException e) {
            return message.nack(e);
        }
        if (decoded instanceof OutboundRecordDecoder.Decoded.Undecodable bad) {
            return deadLetter(message, bad);
        }
        OutboundRecord record = ((OutboundRecordDecoder.Decoded.Valid) decoded).record();
        String messageId = record.envelope().messageId();
        Timer.Sample sample = metrics.start();
        CompletionStage<List<RecipientResult>> delivery =
                inMdc(messageId, () -> deliverer.deliver(record.envelope(), record.data()).toCompletionStage());
        return delivery
                .thenCompose(results -> outcomes.publish(record, results).thenApply(v -> results))
                .handle((results, err) -> {
                    metrics.finished(sample);
                    if (err != null) {
                        withMdc(messageId, () -> LOG.errorf(err, "could not make delivery outcome durable, "
                                + "record %s stays uncommitted", record.key()));
                        return message.nack(err);
                    }
                    withMdc(messageId, () -> summary(record, results));
                    return message.ack();
                })
                .thenCompose(done -> done);
    }

    private CompletionStage<Void> deadLetter(Message<byte[]> message, OutboundRecordDecoder.Decoded.Undecodable bad) {
        return dlq.publish(bad).handle((v, err) -> {
            if (err != null) {
                LOG.errorf(err, "could not move undecodable record %s to the dead-letter topic", bad.source());
                return message.nack(err);
            }
            metrics.deadLettered();
            LOG.warnf("undecodable record %s (key %s) moved to the dead-letter topic: %s", bad.source(),
                    bad.key(), bad.reason());
            return message.ack();
        }).thenCompose(done -> done);
    }

    /** One INFO line per record: counts, the remote host and the first failure; never the message body. */
    private static void summary(OutboundRecord record, List<RecipientResult> results) {
        long delivered = results.stream().filter(r -> r.status() == DeliveryStatus.DELIVERED).count();
        long deferred = results.stream().filter(r -> r.status() == DeliveryStatus.TRANSIENT).count();
        long bounced = results.stream().filter(r -> r.status() == DeliveryStatus.PERMANENT).count();
        String remote = results.stream().map(RecipientResult::remote).filter(r -> r != null).findFirst()
                .orElse("-");
        String firstFailure = results.stream().filter(r -> !r.status().isDelivered()).map(RecipientResult::detail)
                .findFirst().orElse("");
        LOG.infof("attempt %d: delivered=%d deferred=%d bounced=%d remote=%s %s", record.envelope().attempts() + 1,
                delivered, deferred, bounced, remote, firstFailure);
    }

    private static <T> CompletionStage<T> inMdc(String messageId, Supplier<CompletionStage<T>> work) {
        MDC.put(MDC_MESSAGE_ID, messageId);
        try {
            return work.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            MDC.remove(MDC_MESSAGE_ID);
        }
    }

    /** Callbacks run on other threads than the one that started the record, so the MDC is set again there. */
    private static void withMdc(String messageId, Runnable log) {
        Object previous = MDC.get(MDC_MESSAGE_ID);
        MDC.put(MDC_MESSAGE_ID, messageId);
        try {
            log.run();
        } finally {
            if (previous == null) {
                MDC.remove(MDC_MESSAGE_ID);
            } else {
                MDC.put(MDC_MESSAGE_ID, previous.toString());
            }
        }
    }
}
