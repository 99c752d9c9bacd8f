package dev.relay.common.usage;

import dev.relay.common.kafka.KafkaClients;
import dev.relay.common.rules.Count;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Usage;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The counts of one policy process (the authority that counts: a message counts when the policy routes it),
 * published to the compacted usage topic as cumulative values under this process's random instance id. A
 * restarted process gets a new id and starts at zero; the old id's records stay in the topic and keep counting
 * for everybody who follows it, until their window ends.
 *
 * <p>{@link #add} changes the local count at once (so this process never overshoots its own view);
 * {@link #publish} writes the current cumulative values and may be repeated (a retry sends the newest values
 * again, never counts twice).
 */
public final class UsageCounter implements Usage, AutoCloseable {

    private final String instance;
    private final String topic;
    private final Clock clock;
    private final KafkaProducer<String, byte[]> producer;
    private final Map<Slot, Count> counts = new ConcurrentHashMap<>();

    public UsageCounter(Map<String, Object> kafka, String topic, Clock clock) {
        this(kafka, topic, clock, UUID.randomUUID().toString());
    }

    public UsageCounter(Map<String, Object> kafka, String topic, Clock clock, String instance) {
        this.instance = instance;
        this.topic = topic;
        this.clock = clock;
        Properties props = KafkaClients.durableProducer(kafka);
        props.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "relay-usage-counter-" + instance);
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    public String instance() {
        return instance;
    }

    @Override
    public Count used(Slot slot) {
        return counts.getOrDefault(slot, Count.ZERO);
    }

    /** How many slots this process holds a count for (callers that let peers create slots bound them with it). */
    public int size() {
        return counts.size();
    }

    /**
     * Adds {@code count} (negative to take back a provisional count, as the AUTH throttle does for an attempt in
     * flight that succeeded) to each slot.
     */
    public void add(Collection<Slot> slots, Count count) {
        for (Slot slot : slots) {
            counts.merge(slot, count, Count::plus);
        }
        counts.keySet().removeIf(s -> UsageFollower.expired(s, clock.instant()));
    }

    /** Writes the current counts of these slots. @return completes when Kafka acknowledged all of them */
    public CompletionStage<Void> publish(Collection<Slot> slots) {
        List<CompletableFuture<Void>> sent = new ArrayList<>();
        for (Slot slot : slots) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            UsageRecord record = UsageRecord.of(instance, slot, used(slot));
            producer.send(new ProducerRecord<>(topic, record.recordKey(), record.toJson()), (meta, error) -> {
                if (error != null) {
                    done.completeExceptionally(error);
                } else {
                    done.complete(null);
                }
            });
            sent.add(done);
        }
        return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
