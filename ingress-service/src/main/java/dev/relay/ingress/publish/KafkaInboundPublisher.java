package dev.relay.ingress.publish;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.KafkaClients;
import dev.relay.common.kafka.Topics;
import dev.relay.ingress.config.IngressConfig;
import dev.relay.ingress.events.MessageMdc;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import io.smallrye.common.annotation.Identifier;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;

/**
 * Publishes accepted messages to {@code relay.inbound.v1}: key = message id, value = the message bytes unchanged,
 * envelope as JSON in a header. The future completes only when the broker acknowledged with {@code acks=all}
 * from an idempotent producer (guarantee 1 in docs/architecture.md). {@code KafkaProducer.send} may block while it waits for
 * metadata, so it runs on a dedicated thread, never on the event loop; the result returns to the caller's context.
 */
@ApplicationScoped
public class KafkaInboundPublisher {

    private static final Logger LOG = Logger.getLogger(KafkaInboundPublisher.class);

    private final KafkaProducer<String, byte[]> producer;
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "relay-kafka-send");
        t.setDaemon(true);
        return t;
    });
    private final String topic;
    private final Duration timeout;
    private final Vertx vertx;

    /**
     * @param kafka every {@code kafka.*} property (bootstrap servers, and in a cluster the security settings such as
     *              {@code KAFKA_SECURITY_PROTOCOL} / {@code KAFKA_SASL_JAAS_CONFIG}); the reliability settings below
     *              override whatever it says about them
     */
    public KafkaInboundPublisher(Vertx vertx, IngressConfig config,
                                 @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.vertx = vertx;
        this.topic = config.publish().topic();
        this.timeout = config.publish().timeout();
        Properties props = KafkaClients.durableProducer(kafka);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                String.valueOf(config.smtp().maxMessageSize() + 1024 * 1024));
        long timeoutMs = timeout.toMillis();
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(Math.max(1000, timeoutMs / 2)));
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(Math.max(2000, timeoutMs)));
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(timeoutMs));
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "relay-ingress");
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * The two outcomes of one publish.
     *
     * @param acknowledged completes when Kafka has the record; fails when it did not acknowledge within the publish
     *                     timeout (the client is answered then)
     * @param settled      completes when the producer is done with the record: acknowledged, failed, or expired by
     *                     its delivery timeout. Never fails. Until then the record (and the message bytes) may still
     *                     sit in the producer's queue, so the memory it was counted against must stay reserved.
     */
    public record Publication(Future<Void> acknowledged, Future<Void> settled) {
    }

    /** Sends the record; see {@link Publication} for the answer and the end of the producer's use of it. */
    public Publication publish(Envelope envelope, byte[] message) {
        Context context = vertx.getOrCreateContext();
        Promise<Void> promise = Promise.promise();
        Promise<Void> settled = Promise.promise();
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, envelope.messageId(), message);
        record.headers().add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        long timer = vertx.setTimer(timeout.toMillis(), id -> promise.tryFail(new TimeoutException("kafka ack")));
        Runnable send = () -> {
            try {
                producer.send(record, (metadata, error) -> context.runOnContext(v -> {
                    vertx.cancelTimer(timer);
                    if (error == null) {
                        promise.tryComplete();
                    } else {
                        promise.tryFail(error);
                    }
                    settled.tryComplete();
                }));
            } catch (RuntimeException e) {
                context.runOnContext(v -> {
                    vertx.cancelTimer(timer);
                    promise.tryFail(e);
                    settled.tryComplete();
                });
            }
        };
        try {
            sender.execute(send);
        } catch (RejectedExecutionException e) { // shutting down: the record was never handed to the producer
            vertx.cancelTimer(timer);
            promise.tryFail(e);
            settled.tryComplete();
        }
        Future<Void> acknowledged = promise.future().onFailure(e -> MessageMdc.run(envelope.messageId(),
                () -> LOG.warnf("message %s not acknowledged by Kafka: %s", envelope.messageId(), e.toString())));
        return new Publication(acknowledged, settled.future());
    }

    @PreDestroy
    void close() {
        sender.shutdown();
        producer.close(Duration.ofSeconds(5));
    }
}
