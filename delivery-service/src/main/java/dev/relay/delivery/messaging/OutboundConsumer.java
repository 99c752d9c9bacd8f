package dev.relay.delivery.messaging;

import dev.relay.common.kafka.InFlightLimit;
import dev.relay.delivery.config.DeliveryConfig;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Consumes relay.outbound.v1 (channel {@code outbound}). Order of work for one record:
 * <ol>
 *   <li>wait for a free delivery slot ({@code relay.delivery.concurrency}); the returned stage completes here,
 *       so up to that many records are delivered at once;</li>
 *   <li>deliver and make the outcome durable ({@link RecordDelivery});</li>
 *   <li>only then acknowledge the record. The throttled commit strategy commits an offset once every record
 *       before it is acknowledged, so out-of-order completion never commits past an unfinished record.</li>
 * </ol>
 * If making the outcome durable fails, the record is nacked: the failure strategy {@code fail} stops the
 * consumer and marks it unhealthy, and the uncommitted record is delivered again after a restart. A duplicate
 * delivery is possible then; a loss is not.
 *
 * <p>Draining ({@link #stopTaking()}, on shutdown): no further record gets a slot, so the stream asks Kafka for
 * nothing more; records already handed to us but not started stay unacknowledged, hence uncommitted, and go to
 * another instance when this one leaves the group.
 */
@Startup // built at boot with the delivery core, so that bad configuration fails the start
@ApplicationScoped
public class OutboundConsumer {

    private final RecordDelivery delivery;
    private final InFlightLimit limit;
    private volatile boolean taking = true;

    public OutboundConsumer(RecordDelivery delivery, DeliveryConfig config) {
        this.delivery = delivery;
        this.limit = new InFlightLimit(config.concurrency());
    }

    @Incoming("outbound")
    public CompletionStage<Void> consume(Message<byte[]> message) {
        return limit.acquire().thenCompose(slot -> {
            if (!taking) {
                limit.release();
                return new CompletableFuture<>(); // never: no further record is requested while draining
            }
            CompletionStage<Void> done;
            try {
                done = delivery.process(OutboundRecordDecoder.decode(message))
                        .handle((v, err) -> err == null ? message.ack() : message.nack(err))
                        .thenCompose(ack -> ack);
            } catch (RuntimeException e) { // a bug: keep the record uncommitted and the slot free
                done = message.nack(e);
            }
            done.whenComplete((v, err) -> limit.release());
            return CompletableFuture.completedFuture(null);
        });
    }

    /** Drain: take no new record from now on. */
    public void stopTaking() {
        taking = false;
    }

    /** Records being delivered right now. */
    public int inFlight() {
        return limit.inFlight();
    }
}
