package dev.relay.delivery.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * Follows the events topic for one probe message. Opened (positioned at the end of every partition) BEFORE the
 * submission, so no event of the probe is missed; no consumer group (nothing committed, no rebalance with the
 * services' consumers). The probe message is known by its recipient, unique per probe: the first event naming it
 * (the ingress's {@code received}) gives the queue id, and the message is followed by that id. Bounded: every
 * poll and metadata call by the probe's deadline; the consumer's fetch sizes are Kafka's defaults.
 */
final class EventWatch implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaConsumer<String, byte[]> consumer;

    EventWatch(String bootstrap, String topic, Duration timeout) throws ProbeFailure {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "relay-probe");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        try {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, timeout);
            if (partitions == null || partitions.isEmpty()) {
                throw new ProbeFailure(ProbeMetrics.Stage.EVENTS, "events topic " + topic + " not found");
            }
            List<TopicPartition> assigned = partitions.stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(assigned);
            consumer.seekToEnd(assigned);
            assigned.forEach(tp -> consumer.position(tp, timeout)); // the end as of now, before the submission
        } catch (KafkaException e) {
            consumer.close(Duration.ZERO);
            throw new ProbeFailure(ProbeMetrics.Stage.EVENTS, "cannot read the events topic: " + e);
        } catch (ProbeFailure e) {
            consumer.close(Duration.ZERO);
            throw e;
        }
    }

    /**
     * Waits until the message to {@code recipient} is delivered; returns its queue id. Fails with NOT_DELIVERED
     * when it was bounced, expired or suppressed, with TIMEOUT at {@code deadlineNanos} (System.nanoTime).
     */
    String awaitDelivered(String recipient, long deadlineNanos) throws ProbeFailure {
        String queueId = null;
        try {
            while (true) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw new ProbeFailure(ProbeMetrics.Stage.TIMEOUT, queueId == null
                            ? "no event of the probe message" : "queue id " + queueId + " not delivered in time");
                }
                for (ConsumerRecord<String, byte[]> record
                        : consumer.poll(Duration.ofNanos(Math.min(left, Duration.ofMillis(500).toNanos())))) {
                    JsonNode event = parse(record.value());
                    if (event == null) {
                        continue;
                    }
                    String id = event.path("messageId").asText(null);
                    if (queueId == null && names(event, recipient)) {
                        queueId = id;
                    }
                    if (queueId == null || !queueId.equals(id)) {
                        continue;
                    }
                    switch (event.path("type").asText("")) {
                        case "delivered" -> {
                            return queueId;
                        }
                        case "bounced", "expired", "suppressed", "rejected" -> throw new ProbeFailure(
                                ProbeMetrics.Stage.NOT_DELIVERED, "queue id " + queueId + " "
                                + event.path("type").asText() + ": " + event.path("reason").asText(""));
                        default -> {
                            // received, routed, deferred: keep following
                        }
                    }
                }
            }
        } catch (KafkaException e) {
            throw new ProbeFailure(ProbeMetrics.Stage.EVENTS, "cannot read the events topic: " + e);
        }
    }

    private static boolean names(JsonNode event, String recipient) {
        for (JsonNode r : event.path("recipients")) {
            if (r.isTextual() && r.asText().equalsIgnoreCase(recipient)) {
                return true;
            }
        }
        return false;
    }

    private static JsonNode parse(byte[] value) {
        if (value == null) {
            return null;
        }
        try {
            return JSON.readTree(value);
        } catch (IOException e) {
            return null; // not ours to judge: the trace and the other readers of the topic report bad records
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
