package dev.relay.delivery.suppression;

import dev.relay.common.suppression.SuppressionCodec;
import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.common.suppression.SuppressionFollower;
import dev.relay.common.suppression.SuppressionList;
import dev.relay.common.suppression.SuppressionTopic;
import dev.relay.testkit.KafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Expired suppression entries are tombstoned (issue 15 gap, docs/adr/0015) against the real test broker: the
 * follower of a delivery instance holds the expired entries it reads (an entry already expired when read at start
 * included), a sweep writes one tombstone per expired key onto the compacted topic, at most {@code sweep-max}
 * per sweep, and the entry then leaves the list; live entries are untouched. The clock is the test's, so nothing
 * waits for a real TTL.
 */
class SuppressionSweepKafkaTest {

    private static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");

    private final MutableClock clock = new MutableClock(T0);
    private String topic;
    private Map<String, Object> kafka;
    private KafkaProducer<String, byte[]> producer;
    private SuppressionFollower follower;

    @BeforeEach
    void setUp() {
        KafkaBroker broker = KafkaBroker.shared();
        topic = "g.suppression." + UUID.randomUUID();
        kafka = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        SuppressionTopic.ensure(kafka, topic);
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    @AfterEach
    void tearDown() {
        if (follower != null) {
            follower.close();
        }
        producer.close(Duration.ofSeconds(5));
    }

    @Test
    void shouldTombstoneExpiredEntriesOnTheTopicAndForgetThem() throws Exception {
        // already expired when the follower reads it (as after a restart), expiring later, and live throughout
        put(entry("gone@example.org", T0.minus(Duration.ofDays(31)), T0.minus(Duration.ofDays(1))));
        put(entry("soon@example.org", T0.minus(Duration.ofDays(1)), T0.plus(Duration.ofHours(1))));
        put(entry("live@example.org", T0, T0.plus(Duration.ofDays(30))));
        SuppressionList list = new SuppressionList(100);
        follower = new SuppressionFollower(kafka, topic, list, clock, true).start();
        assertThat(follower.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
        assertThat(list.size()).isEqualTo(3);
        assertThat(list.active("gone@example.org", clock.instant())).as("expired never suppresses").isEmpty();

        SuppressionSweeper sweeper = new SuppressionSweeper(list, this::tombstone, 1000, clock);
        assertThat(sweeper.sweep().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(1);
        clock.now = T0.plus(Duration.ofHours(2));
        assertThat(sweeper.sweep().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(sweeper.sweep().toCompletableFuture().get(30, TimeUnit.SECONDS)).as("nothing left").isZero();

        Map<String, List<byte[]>> onTopic = readAll();
        assertThat(onTopic.get("gone@example.org")).hasSize(2).last().isNull();
        assertThat(onTopic.get("soon@example.org")).hasSize(2).last().isNull();
        assertThat(onTopic.get("live@example.org")).hasSize(1).last().isNotNull();
        assertThat(list.size()).isEqualTo(1);
        assertThat(list.active("live@example.org", clock.instant())).isPresent();
        assertThat(list.expired(clock.instant(), 10)).isEmpty();
    }

    @Test
    void shouldBoundTheWorkOfOneSweepAndKeepAnEntryWhoseTombstoneFailed() throws Exception {
        for (int i = 0; i < 5; i++) {
            put(entry("old" + i + "@example.org", T0.minus(Duration.ofDays(2)), T0.minus(Duration.ofDays(1))));
        }
        SuppressionList list = new SuppressionList(100);
        follower = new SuppressionFollower(kafka, topic, list, clock, true).start();
        assertThat(follower.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();

        SuppressionSweeper failing = new SuppressionSweeper(list,
                key -> CompletableFuture.failedFuture(new IllegalStateException("broker said no")), 2, clock);
        assertThat(failing.sweep().toCompletableFuture().get(30, TimeUnit.SECONDS)).isZero();
        assertThat(list.size()).as("kept for the next sweep").isEqualTo(5);

        SuppressionSweeper sweeper = new SuppressionSweeper(list, this::tombstone, 2, clock);
        assertThat(sweeper.sweep().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(list.size()).isEqualTo(3);
        assertThat(sweeper.sweep().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(sweeper.sweep().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(list.size()).isZero();
        long tombstones = readAll().values().stream().filter(v -> v.get(v.size() - 1) == null).count();
        assertThat(tombstones).isEqualTo(5);
    }

    private static SuppressionEntry entry(String address, Instant since, Instant until) {
        return new SuppressionEntry(address, "550 5.1.1 no such user", since, until, SuppressionEntry.Source.BOUNCE);
    }

    private void put(SuppressionEntry e) throws Exception {
        producer.send(new ProducerRecord<>(topic, e.address(), SuppressionCodec.encode(e))).get(30, TimeUnit.SECONDS);
    }

    private CompletionStage<Void> tombstone(String key) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        producer.send(new ProducerRecord<>(topic, key, null), (meta, failure) -> {
            if (failure != null) {
                acked.completeExceptionally(failure);
            } else {
                acked.complete(null);
            }
        });
        return acked;
    }

    /** Every record of the topic, by key, in offset order (null = tombstone). */
    private Map<String, List<byte[]>> readAll() {
        Map<String, List<byte[]>> byKey = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG)),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                parts.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
                }
            }
        }
        return byKey;
    }

    private static final class MutableClock extends Clock {
        volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
