package dev.relay.ingress.events;

import dev.relay.common.event.RelayEvent;
import dev.relay.common.kafka.KafkaClients;
import dev.relay.ingress.config.IngressConfig;
import dev.relay.ingress.metrics.IngressMetrics;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Writes the ingress's lifecycle events ({@code received}, {@code rejected}) to the events topic, keyed by queue
 * id, value the {@link RelayEvent} JSON, with the same producer guarantees as the policy's and the delivery's events
 * ({@code acks=all}, idempotent). Best effort by design (ADR 0019): {@link #emit} never blocks and never fails its
 * caller, an event loop answering a client. It hands the event to one thread of its own through a bounded queue
 * ({@code relay.ingress.events.queue-capacity}); when the queue is full, when Kafka gives no metadata or buffer space
 * within {@code max-block}, or when the broker refuses the record, the event is dropped and counted
 * ({@code relay_ingress_events_dropped_total{reason}}), never queued without bound. The message is unaffected:
 * its {@code 250} followed its own acknowledged publish.
 */
@ApplicationScoped
public class IngressEvents {

    public static final String SERVICE = "ingress";
    private static final Logger LOG = Logger.getLogger(IngressEvents.class);

    private final KafkaProducer<String, byte[]> producer;
    private final ThreadPoolExecutor sender;
    private final String topic;
    private final IngressMetrics metrics;

    public IngressEvents(IngressConfig config, IngressMetrics metrics,
                         @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        IngressConfig.Events events = config.events();
        this.topic = events.topic();
        this.metrics = metrics;
        Properties props = KafkaClients.durableProducer(kafka);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(events.maxBlock().toMillis()));
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(events.bufferBytes()));
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "relay-ingress-events");
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        this.sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(Math.max(1, events.queueCapacity())), r -> {
                    Thread t = new Thread(r, "relay-ingress-events");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        metrics.eventsRegistered();
    }

    /** Hands the event over without waiting; dropped and counted when it cannot be queued. */
    public void emit(RelayEvent event) {
        try {
            sender.execute(() -> send(event));
        } catch (RejectedExecutionException e) {
            dropped(event, "queue-full", "the events queue is full");
        }
    }

    /** On the events thread: may wait up to {@code max-block} for metadata or buffer space, then gives up. */
    private void send(RelayEvent event) {
        try {
            producer.send(new ProducerRecord<>(topic, event.messageId(), event.toJson()), (metadata, error) -> {
                if (error != null) {
                    dropped(event, "send-failed", error.toString());
                }
            });
        } catch (RuntimeException e) { // TimeoutException (no metadata, buffer full), or the producer is closed
            dropped(event, "kafka-unavailable", e.toString());
        }
    }

    private void dropped(RelayEvent event, String reason, String why) {
        metrics.eventDropped(reason);
        MessageMdc.run(event.messageId(),
                () -> LOG.debugf("event %s of %s dropped (%s): %s", event.type(), event.messageId(), reason, why));
    }

    @PreDestroy
    void close() {
        sender.shutdownNow();
        producer.close(Duration.ofSeconds(2));
    }
}
