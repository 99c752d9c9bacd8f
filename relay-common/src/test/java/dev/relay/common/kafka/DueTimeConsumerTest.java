package dev.relay.common.kafka;

import dev.relay.testkit.KafkaBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Against the real test broker: due-time pausing, ordered commits, failure rewind and graceful close. */
class DueTimeConsumerTest {

    private static String bootstrap;
    private final List<DueTimeConsumer> consumers = new ArrayList<>();

    @BeforeAll
    static void broker() {
        bootstrap = KafkaBroker.shared().bootstrapServers();
    }

    @AfterEach
    void stop() {
        consumers.forEach(c -> c.close(Duration.ofSeconds(2)));
    }

    @Test
    void aRecordWaitsForItsDueTimeWhileOtherTopicsFlow() throws Exception {
        String slow = topic(1);
        String fast = topic(1);
        Map<String, Long> handledAt = new ConcurrentHashMap<>();
        Instant due = Instant.now().plusSeconds(3);
        send(slow, "later", due);
        send(fast, "now", null);
        long start = System.currentTimeMillis();
        consumer(group(), List.of(slow, fast), r -> {
            handledAt.put(text(r), System.currentTimeMillis());
            return CompletableFuture.completedFuture(null);
        }, 4);

        await().atMost(Duration.ofSeconds(20)).until(() -> handledAt.size() == 2);
        assertThat(handledAt.get("now")).isLessThan(due.toEpochMilli());
        assertThat(handledAt.get("later")).isGreaterThanOrEqualTo(due.toEpochMilli());
        assertThat(handledAt.get("later") - start).isGreaterThanOrEqualTo(2_000);
    }

    @Test
    void aFailedRecordIsHandledAgainAndTheCommitNeverPassesIt() throws Exception {
        String topic = topic(1);
        String group = group();
        for (int i = 0; i < 5; i++) {
            send(topic, "m" + i, null);
        }
        AtomicInteger failuresLeft = new AtomicInteger(1);
        List<String> handled = new CopyOnWriteArrayList<>();
        consumer(group, List.of(topic), r -> {
            handled.add(text(r));
            if (text(r).equals("m2") && failuresLeft.getAndDecrement() > 0) {
                return CompletableFuture.failedFuture(new IllegalStateException("broker said no"));
            }
            return CompletableFuture.completedFuture(null);
        }, 1);

        await().atMost(Duration.ofSeconds(30)).until(() -> committed(group, topic) == 5);
        assertThat(handled).containsSubsequence("m0", "m1", "m2", "m2", "m3", "m4");
        assertThat(handled.stream().filter("m2"::equals)).hasSize(2);
    }

    @Test
    void outOfOrderCompletionCommitsOnlyTheFinishedPrefix() throws Exception {
        String topic = topic(1);
        String group = group();
        for (int i = 0; i < 3; i++) {
            send(topic, "m" + i, null);
        }
        Map<String, CompletableFuture<Void>> stages = new ConcurrentHashMap<>();
        consumer(group, List.of(topic), r -> stages.computeIfAbsent(text(r), k -> new CompletableFuture<>()), 3);
        await().atMost(Duration.ofSeconds(20)).until(() -> stages.size() == 3);

        stages.get("m1").complete(null);
        stages.get("m2").complete(null);
        Thread.sleep(1_500);
        assertThat(committed(group, topic)).isLessThanOrEqualTo(0);

        stages.get("m0").complete(null);
        await().atMost(Duration.ofSeconds(10)).until(() -> committed(group, topic) == 3);
    }

    @Test
    void closeWaitsForWorkInFlightAndLeavesTheRestToTheNextMember() throws Exception {
        String topic = topic(1);
        String group = group();
        send(topic, "finishes", null);
        send(topic, "never", null);
        CompletableFuture<Void> slow = new CompletableFuture<>();
        List<String> handled = new CopyOnWriteArrayList<>();
        DueTimeConsumer first = new DueTimeConsumer("test", config(group), List.of(topic), r -> {
            handled.add(text(r));
            if (text(r).equals("finishes")) {
                CompletableFuture.delayedExecutor(1, java.util.concurrent.TimeUnit.SECONDS)
                        .execute(() -> slow.complete(null));
                return slow;
            }
            return new CompletableFuture<>(); // never completes: must stay uncommitted
        }, 2, Clock.systemUTC()).start();
        await().atMost(Duration.ofSeconds(20)).until(() -> handled.size() == 2);

        first.close(Duration.ofSeconds(3));
        assertThat(slow).isDone();
        assertThat(committed(group, topic)).isEqualTo(1);

        List<String> second = new CopyOnWriteArrayList<>();
        consumer(group, List.of(topic), r -> {
            second.add(text(r));
            return CompletableFuture.completedFuture(null);
        }, 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> second.contains("never"));
        assertThat(second).doesNotContain("finishes");
    }

    @Test
    void aFullHouseWaitsForAFreeSlotAndLosesNothing() throws Exception {
        String topic = topic(3);
        String group = group();
        for (int i = 0; i < 30; i++) {
            send(topic, "m" + i, null);
        }
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        List<String> handled = new CopyOnWriteArrayList<>();
        consumer(group, List.of(topic), r -> {
            maxSeen.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            return CompletableFuture.runAsync(() -> {
                sleep(20);
                handled.add(text(r));
                concurrent.decrementAndGet();
            });
        }, 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> committed(group, topic) == 30);
        assertThat(handled).hasSize(30).doesNotHaveDuplicates();
        assertThat(maxSeen.get()).isLessThanOrEqualTo(2);
    }

    @Test
    void refusesAConsumerWithoutAGroup() {
        Map<String, Object> noGroup = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DueTimeConsumer("x", noGroup, List.of("t"),
                        r -> CompletableFuture.completedFuture(null), 1, Clock.systemUTC()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("group.id");
    }

    private void consumer(String group, List<String> topics, DueTimeConsumer.Handler handler, int maxInFlight) {
        consumers.add(new DueTimeConsumer("test", config(group), topics, handler, maxInFlight, Clock.systemUTC())
                .start());
    }

    private static Map<String, Object> config(String group) {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.GROUP_ID_CONFIG, group);
    }

    private static String group() {
        return "due-test-" + UUID.randomUUID();
    }

    private static String topic(int partitions) throws Exception {
        String name = "due-test-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(name, partitions, (short) 1)))
                    .all().get();
        }
        return name;
    }

    private static void send(String topic, String value, Instant due) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, null,
                    value.getBytes(StandardCharsets.UTF_8));
            if (due != null) {
                record.headers().add(DueTimeConsumer.DUE_AT_HEADER, DueTimeConsumer.dueAtValue(due));
            }
            producer.send(record).get();
        }
    }

    private static long committed(String group, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topic))
                    .mapToLong(e -> e.getValue() == null ? 0 : e.getValue().offset()).sum();
        }
    }

    private static String text(ConsumerRecord<byte[], byte[]> r) {
        return new String(r.value(), StandardCharsets.UTF_8);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
