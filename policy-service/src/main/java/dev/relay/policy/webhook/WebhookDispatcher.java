package dev.relay.policy.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.relay.common.kafka.KafkaClients;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.config.PolicyMetrics;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Sends the events to the webhooks (docs/adr/0021) on two threads of its own, never on an event loop and never in
 * the way of mail: one consumer (group {@code relay.policy.webhooks.group}) of the events topic POSTs each event to
 * every subscription that wants it, all at once, each POST bounded by the timeout; a failure that may pass goes to
 * the retry topic with its attempt count and due time. The other consumer (group {@code retry-group}) takes the
 * retry topic in order, waits for each record's due time (pausing that partition, so a later record waits behind
 * an earlier one at most until the earlier one's due time), POSTs again, and after {@code max-attempts} (or at
 * once on a 4xx other than 429) writes a dead letter. Offsets are committed only after the retries and dead
 * letters of the records before them were acknowledged by Kafka: at least once, never lost.
 */
@ApplicationScoped
public class WebhookDispatcher {

    private static final Logger LOG = Logger.getLogger(WebhookDispatcher.class);

    private final Map<String, Object> kafka;
    private final PolicyConfig config;
    private final PolicyConfig.WebhookSettings settings;
    private final WebhookStore store;
    private final PolicyMetrics metrics;
    private final Clock clock = Clock.systemUTC();
    private final List<Thread> threads = new ArrayList<>();
    private final List<KafkaConsumer<String, byte[]>> consumers = new ArrayList<>();
    private volatile boolean running = true;
    private WebhookSender sender;

    public WebhookDispatcher(PolicyConfig config, WebhookStore store, PolicyMetrics metrics,
                             @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.kafka = kafka;
        this.config = config;
        this.settings = config.webhooks();
        this.store = store;
        this.metrics = metrics;
    }

    void onStart(@Observes StartupEvent event) {
        if (!settings.enabled()) {
            LOG.info("webhooks are not dispatched by this instance (relay.policy.webhooks.enabled=false)");
            return;
        }
        sender = new WebhookSender(settings.timeout(), clock);
        int batch = 20;
        long interval = settings.timeout().toMillis() * 2 * batch + 60_000;
        KafkaConsumer<String, byte[]> events = consumer(settings.group(), "latest", batch, interval);
        events.subscribe(List.of(config.topics().events()), new PinStart(events));
        KafkaConsumer<String, byte[]> retries = consumer(settings.retryGroup(), "earliest", batch, interval);
        retries.subscribe(List.of(settings.retryTopic()));
        start("webhook-events", () -> dispatchEvents(events));
        start("webhook-retries", () -> dispatchRetries(retries));
    }

    void onStop(@Observes ShutdownEvent event) {
        running = false;
        consumers.forEach(KafkaConsumer::wakeup);
        for (Thread thread : threads) {
            try {
                thread.join(settings.timeout().toMillis() * 2 + 10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private KafkaConsumer<String, byte[]> consumer(String group, String reset, int batch, long interval) {
        Properties props = KafkaClients.settings(kafka);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, batch);
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, interval));
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer());
        consumers.add(consumer);
        return consumer;
    }

    private void start(String name, Runnable loop) {
        Thread thread = new Thread(() -> {
            try {
                loop.run();
            } catch (WakeupException e) {
                // shutting down
            } catch (RuntimeException e) {
                LOG.errorf(e, "%s stopped", name);
            }
        }, name);
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }

    private void dispatchEvents(KafkaConsumer<String, byte[]> consumer) {
        try (consumer) {
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
                List<Future<?>> written = new ArrayList<>();
                for (ConsumerRecord<String, byte[]> record : records) {
                    String type = type(record.value());
                    if (type == null) {
                        continue;
                    }
                    List<CompletableFuture<?>> posts = new ArrayList<>();
                    for (Subscription subscription : store.all()) {
                        if (subscription.wants(type)) {
                            posts.add(sender.post(subscription, record.value()).thenAccept(result ->
                                    after(subscription, 1, record.value(), result, written)));
                        }
                    }
                    CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new)).join();
                }
                if (!awaitAll(written)) {
                    rewind(consumer);
                    continue;
                }
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
            }
        }
    }

    private void dispatchRetries(KafkaConsumer<String, byte[]> consumer) {
        Map<TopicPartition, Long> pausedUntil = new HashMap<>();
        try (consumer) {
            while (running) {
                long now = clock.millis();
                List<TopicPartition> resume = pausedUntil.entrySet().stream().filter(e -> e.getValue() <= now)
                        .map(Map.Entry::getKey).toList();
                resume.forEach(pausedUntil::remove);
                consumer.resume(resume.stream().filter(consumer.assignment()::contains).toList());
                pausedUntil.keySet().retainAll(consumer.assignment());
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
                Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
                List<Future<?>> written = new ArrayList<>();
                for (ConsumerRecord<String, byte[]> record : records) {
                    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                    if (pausedUntil.containsKey(partition)) {
                        continue;
                    }
                    Pending pending = WebhookCodec.decode(record.value(), Pending.class);
                    if (pending != null && pending.due() > clock.millis()) {
                        consumer.seek(partition, record.offset());
                        consumer.pause(List.of(partition));
                        pausedUntil.put(partition, pending.due());
                        continue;
                    }
                    if (pending != null && pending.event() != null) {
                        retry(pending, written);
                    }
                    done.put(partition, new OffsetAndMetadata(record.offset() + 1));
                }
                if (!awaitAll(written)) {
                    rewind(consumer);
                    pausedUntil.clear();
                    consumer.resume(consumer.paused());
                    continue;
                }
                if (!done.isEmpty()) {
                    consumer.commitSync(done);
                }
            }
        }
    }

    private void retry(Pending pending, List<Future<?>> written) {
        Subscription subscription = store.get(pending.subscription()).orElse(null);
        if (subscription == null) {
            metrics.webhookDelivery("dropped");
            return;
        }
        byte[] body = WebhookCodec.encode(pending.event());
        WebhookSender.Result result = sender.post(subscription, body).join();
        after(subscription, pending.attempt(), body, result, written);
    }

    /** Counts the outcome; a failure goes to the retry topic or the dead letters (their sends kept in written). */
    private void after(Subscription subscription, int attempt, byte[] body, WebhookSender.Result result,
                       List<Future<?>> written) {
        if (result.outcome() == WebhookSender.Outcome.DELIVERED) {
            metrics.webhookDelivery("delivered");
            return;
        }
        JsonNode event = WebhookCodec.decode(body, JsonNode.class);
        long now = clock.millis();
        Future<?> sent;
        if (result.outcome() == WebhookSender.Outcome.RETRY && attempt < settings.maxAttempts()) {
            List<Duration> backoff = settings.backoff();
            Duration delay = backoff.get(Math.min(attempt - 1, backoff.size() - 1));
            metrics.webhookDelivery("retry");
            LOG.debugf("webhook %s attempt %d failed (%s): again in %s", subscription.id(), attempt,
                    result.error(), delay);
            sent = store.retry(new Pending(subscription.id(), attempt + 1, now + delay.toMillis(), result.error(),
                    event));
        } else {
            metrics.webhookDelivery("dead");
            LOG.warnf("webhook %s gave up on an event after %d attempt(s): %s", subscription.id(), attempt,
                    result.error());
            sent = store.deadLetter(new DeadLetter(subscription.id(), attempt, now, result.error(), event));
        }
        synchronized (written) {
            written.add(sent);
        }
    }

    /**
     * Waits for the retries and dead letters to be acknowledged; false when one was not written (Kafka down, not
     * authorised): the caller then commits nothing and takes the batch again.
     */
    private static boolean awaitAll(List<Future<?>> written) {
        List<Future<?>> copy;
        synchronized (written) {
            copy = List.copyOf(written);
        }
        for (Future<?> sent : copy) {
            try {
                sent.get(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (Exception e) {
                LOG.errorf("webhook retries or dead letters not written (%s): the batch is taken again", e.toString());
                return false;
            }
        }
        return true;
    }

    /** Back to the committed offsets of every assigned partition, after a pause, so that nothing is skipped. */
    private void rewind(KafkaConsumer<String, byte[]> consumer) {
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(consumer.assignment());
        consumer.assignment().forEach(partition -> {
            OffsetAndMetadata offset = committed.get(partition);
            if (offset != null) {
                consumer.seek(partition, offset.offset());
            } else {
                consumer.seekToBeginning(List.of(partition));
            }
        });
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /**
     * A group new to a partition starts at its end (a new deployment does not replay a week of events); the start
     * is committed at once, so that events written before the first one this instance dispatches are not skipped
     * after a restart.
     */
    private record PinStart(KafkaConsumer<String, byte[]> consumer) implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(partitions));
            Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
            for (TopicPartition partition : partitions) {
                if (committed.get(partition) == null) {
                    start.put(partition, new OffsetAndMetadata(consumer.position(partition)));
                }
            }
            if (!start.isEmpty()) {
                consumer.commitSync(start);
            }
        }
    }

    private static String type(byte[] value) {
        JsonNode event = WebhookCodec.decode(value, JsonNode.class);
        return event == null || !event.hasNonNull("type") ? null : event.get("type").asText();
    }
}
