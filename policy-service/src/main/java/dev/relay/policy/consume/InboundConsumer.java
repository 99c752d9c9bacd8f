package dev.relay.policy.consume;

import dev.relay.common.lifecycle.Drain;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.InFlightLimit;
import dev.relay.common.kafka.Topics;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.route.DeadLetters;
import dev.relay.policy.route.Dispatcher;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import java.time.Duration;

/**
 * Consumes {@code relay.inbound.v1}: decodes each record's envelope and hands the message to the
 * {@link Dispatcher} (decide and route), or a record it cannot decode to {@link DeadLetters}. The input record is
 * acknowledged (so its offset may be committed) only after every output record was acknowledged by Kafka, so a
 * crash or an outage leads to reprocessing, never to loss. Kafka in and acknowledgements only: no decision here.
 */
@ApplicationScoped
public class InboundConsumer {

    private static final Logger LOG = Logger.getLogger(InboundConsumer.class);

    private final Dispatcher dispatcher;
    private final DeadLetters deadLetters;
    private final InFlightLimit window;
    private final Duration shutdownGrace;
    private volatile boolean taking = true;

    public InboundConsumer(Dispatcher dispatcher, DeadLetters deadLetters, PolicyConfig config) {
        this.dispatcher = dispatcher;
        this.deadLetters = deadLetters;
        this.window = new InFlightLimit(config.inFlight());
        this.shutdownGrace = config.shutdownGrace();
    }

    /**
     * Takes the next record once a slot of {@code relay.policy.in-flight} is free, and returns: deciding and
     * producing go on without waiting for Kafka's acknowledgement, so one consumer has many records in work
     * instead of one round trip per record. The record is acknowledged (committable) only when its own output
     * was acknowledged; a failure (a bug: producing is retried) nacks it, which stops the channel
     * ({@code failure-strategy=fail}) with the record uncommitted.
     */
    @Incoming("inbound")
    public Uni<Void> process(Message<byte[]> message) {
        return Uni.createFrom().completionStage(window.acquire()).chain(() -> {
            if (!taking) { // shutting down: this record stays unacknowledged, hence uncommitted, for another instance
                window.release();
                return Uni.createFrom().<Void>nothing();
            }
            Uni<Void> work;
            try {
                work = decideAndRoute(message);
            } catch (RuntimeException e) {
                work = Uni.createFrom().failure(e);
            }
            work.subscribe().with(done -> window.release(), failure -> {
                window.release();
                LOG.errorf(failure, "inbound record not processed; the channel stops with it uncommitted");
                message.nack(failure);
            });
            return Uni.createFrom().voidItem();
        });
    }

    /**
     * Before the Kafka connector closes: no further record is taken, and the records in flight get
     * {@code relay.policy.shutdown-grace} to be acknowledged, so that their offsets are committed on close.
     */
    void onShutdown(@Observes ShutdownEvent event) {
        taking = false;
        long started = System.currentTimeMillis();
        Drain.await(window::inFlight, shutdownGrace, 20);
        int left = window.inFlight();
        if (left > 0) {
            LOG.warnf("shutdown: %d inbound record(s) still in flight after %s; they stay uncommitted", left,
                    shutdownGrace);
        } else {
            LOG.infof("shutdown: inbound records in flight finished in %d ms", System.currentTimeMillis() - started);
        }
    }

    private Uni<Void> decideAndRoute(Message<byte[]> message) {
        IncomingKafkaRecordMetadata<?, ?> meta = message.getMetadata(IncomingKafkaRecordMetadata.class).orElseThrow();
        Header header = meta.getHeaders().lastHeader(Topics.ENVELOPE_HEADER);
        Envelope envelope;
        try {
            envelope = EnvelopeCodec.decode(header == null ? null : header.value());
        } catch (IllegalArgumentException e) {
            return deadLetters.inbound(meta, message.getPayload(), e.getMessage())
                    .chain(() -> Uni.createFrom().completionStage(message.ack()));
        }
        return dispatcher.handle(envelope, message.getPayload(), false)
                .chain(() -> Uni.createFrom().completionStage(message.ack()));
    }
}
