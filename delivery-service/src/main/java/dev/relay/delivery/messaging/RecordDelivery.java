package dev.relay.delivery.messaging;

import dev.relay.delivery.HopDeliverer;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.RecipientResult;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * One record of the outbound topic or of a retry tier, from decoded bytes to a durable outcome. The same path
 * for both, so that a retried message is delivered, reported and bounced exactly like a fresh one:
 * <ol>
 *   <li>an undecodable record goes to the dead-letter topic ({@link KafkaDlqPublisher});</li>
 *   <li>deliver (route + SMTP), every recipient gets a result;</li>
 *   <li>publish events, the retry record and the DSN ({@link OutcomePublisher}) and wait for Kafka's
 *       acknowledgement.</li>
 * </ol>
 * The returned stage completes only then; it fails when the outcome could not be made durable, and the caller
 * must then leave the record uncommitted (delivered again later: a duplicate is possible, a loss is not).
 */
@ApplicationScoped
public class RecordDelivery {

    private static final Logger LOG = Logger.getLogger(RecordDelivery.class);
    static final String MDC_MESSAGE_ID = "messageId";

    private final HopDeliverer deliverer;
    private final OutcomePublisher outcomes;
    private final KafkaDlqPublisher dlq;
    private final DeliveryMetrics metrics;

    public RecordDelivery(HopDeliverer deliverer, OutcomePublisher outcomes, KafkaDlqPublisher dlq,
                          DeliveryMetrics metrics) {
        this.deliverer = deliverer;
        this.outcomes = outcomes;
        this.dlq = dlq;
        this.metrics = metrics;
    }

    CompletionStage<Void> process(OutboundRecordDecoder.Decoded decoded) {
        if (decoded instanceof OutboundRecordDecoder.Decoded.Undecodable bad) {
            return dlq.publish(bad);
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
                        return CompletableFuture.<Void>failedFuture(err);
                    }
                    withMdc(messageId, () -> summary(record, results));
                    return CompletableFuture.<Void>completedFuture(null);
                })
                .thenCompose(done -> done);
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
