package dev.relay.e2e;

import dev.relay.testkit.CaptureMx;
import dev.relay.testkit.CapturedMessage;
import dev.relay.testkit.KafkaBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Graceful drain of a real delivery process: SIGTERM while a message is in the middle of its SMTP transaction.
 * Readiness must go DOWN, the transaction in flight must finish and be committed, and a record that arrives
 * during the drain must be neither delivered nor committed by the stopping process — the next instance of the
 * group delivers it. Topics and groups of its own, so that other tests' records cannot interfere.
 */
class DeliveryDrainIT {

    private static final Duration WAIT = Duration.ofSeconds(90);

    private final String run = "drain-" + UUID.randomUUID().toString().substring(0, 8);
    private final String outbound = run + ".outbound";
    private final String retryPrefix = run + ".retry";
    private final String events = run + ".events";
    private final String dlq = run + ".dlq";
    private final String group = run + "-delivery";
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : cleanup) {
            c.close();
        }
        try (Admin admin = admin()) {
            admin.deleteConsumerGroups(List.of(group, run + "-retry")).all().get(30, TimeUnit.SECONDS);
            admin.deleteTopics(List.of(outbound, retryPrefix + ".1s", retryPrefix + ".2s", events, dlq)).all()
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.out.println("cleanup of " + run + " incomplete: " + e);
        }
    }

    @Test
    void shouldFinishTheTransactionInFlightAndHandBackWhatItDidNotStart() throws Exception {
        KafkaBroker kafka = KafkaBroker.shared();
        kafka.createTopics(List.of(outbound, retryPrefix + ".1s", retryPrefix + ".2s", events, dlq), 1);
        CountDownLatch inData = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CaptureMx mx = CaptureMx.start(0, null);
        cleanup.add(mx);
        mx.setDataReply(() -> { // holds the first transaction at the final dot until the test releases it
            inData.countDown();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        RelayService first = RelayService.start("delivery-service", env(kafka.bootstrapServers(), mx.port()));
        cleanup.add(first);
        KafkaProducer<String, byte[]> producer = producer(kafka.bootstrapServers());
        cleanup.add(producer);

        RecordMetadata a = producer.send(record("a" + run, "a@example.org")).get(30, TimeUnit.SECONDS);
        assertThat(inData.await(60, TimeUnit.SECONDS)).as("message a reached DATA").isTrue();

        CompletableFuture<Void> stopped = CompletableFuture.runAsync(first::close); // SIGTERM, waits for the exit
        await().atMost(WAIT).until(() -> first.status("/q/health/ready") == 503);
        RecordMetadata b = producer.send(record("b" + run, "b@example.org")).get(30, TimeUnit.SECONDS);
        release.countDown();
        stopped.get(60, TimeUnit.SECONDS);

        assertThat(mx.messages()).extracting(m -> m.recipients().get(0)).containsExactly("a@example.org");
        assertThat(committed(b.partition())).as("a committed, b handed back uncommitted").isEqualTo(b.offset())
                .isEqualTo(a.offset() + 1);

        RelayService second = RelayService.start("delivery-service", env(kafka.bootstrapServers(), mx.port()));
        cleanup.add(second);
        await().atMost(WAIT).until(() -> mx.messages().size() == 2);
        assertThat(mx.messages()).extracting(CapturedMessage::recipients)
                .containsExactly(List.of("a@example.org"), List.of("b@example.org"));
        await().atMost(WAIT).until(() -> committed(b.partition()) == b.offset() + 1);
    }

    private Map<String, String> env(String bootstrap, int mxPort) {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("RELAY_DELIVERY_TEST_ONLY_ALLOW_PRIVATE_MX", "true");
        env.put("RELAY_DELIVERY_SMARTHOST", "127.0.0.1:" + mxPort + ";tls=none");
        env.put("RELAY_DELIVERY_SHUTDOWN_GRACE", "15s"); // below RelayService.close()'s 20 s before the kill
        env.put("MP_MESSAGING_INCOMING_OUTBOUND_TOPIC", outbound);
        env.put("MP_MESSAGING_INCOMING_OUTBOUND_GROUP_ID", group);
        env.put("MP_MESSAGING_OUTGOING_MAIL_OUT_TOPIC", outbound);
        env.put("MP_MESSAGING_OUTGOING_EVENTS_OUT_TOPIC", events);
        env.put("MP_MESSAGING_OUTGOING_DLQ_OUT_TOPIC", dlq);
        env.put("RELAY_DELIVERY_RETRY_TOPIC_PREFIX", retryPrefix);
        env.put("RELAY_DELIVERY_RETRY_SCHEDULE", "1s,2s");
        env.put("RELAY_DELIVERY_RETRY_GROUP_ID", run + "-retry");
        return env;
    }

    /** An outbound record as the policy service writes it (envelope JSON in the relay-envelope header). */
    private ProducerRecord<String, byte[]> record(String id, String rcpt) {
        byte[] body = ("Subject: drain " + id + "\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII);
        String envelope = "{\"version\":1,\"messageId\":\"" + id + "\",\"receivedAt\":" + System.currentTimeMillis()
                + ",\"listener\":\"submission\",\"tls\":true,\"mailFrom\":\"alice@relay.test\",\"recipients\":[\""
                + rcpt + "\"],\"smtputf8\":false,\"body\":\"7BIT\",\"size\":" + body.length
                + ",\"route\":{\"domain\":\"example.org\",\"kind\":\"MX\",\"port\":0,\"tlsPolicy\":\"none\"},"
                + "\"attempts\":0}";
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(outbound, 0, id + ":mx:example.org", body);
        record.headers().add("relay-envelope", envelope.getBytes(StandardCharsets.UTF_8));
        return record;
    }

    private long committed(int partition) throws Exception {
        try (Admin admin = admin()) {
            OffsetAndMetadata offset = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS).get(new TopicPartition(outbound, partition));
            return offset == null ? -1 : offset.offset();
        }
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.shared().bootstrapServers()));
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

}
