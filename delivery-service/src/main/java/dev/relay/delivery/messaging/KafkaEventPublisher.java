package dev.relay.delivery.messaging;

import dev.relay.common.event.RelayEvent;
import dev.relay.delivery.kafka.KafkaAckedSend;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.concurrent.CompletionStage;

/** Publishes lifecycle events to relay.events.v1 (channel {@code events-out}), keyed by message id. */
@ApplicationScoped
public class KafkaEventPublisher {

    public static final String SERVICE = "delivery";

    @Inject
    @Channel("events-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 4096)
    Emitter<byte[]> events;

    /** Completes when the broker acknowledged the event. */
    public CompletionStage<Void> publish(RelayEvent event) {
        return KafkaAckedSend.send(events, event.messageId(), event.toJson(), null);
    }
}
