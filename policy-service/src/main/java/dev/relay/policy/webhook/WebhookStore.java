package dev.relay.policy.webhook;

import dev.relay.common.kafka.KafkaClients;
import dev.relay.policy.config.PolicyConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The webhook subscriptions and dead letters of the cluster (docs/adr/0021): every instance follows the compacted
 * subscriptions topic and the dead-letter topic into bounded maps, and writes subscriptions, tombstones, retries
 * and dead letters, returning once Kafka acknowledged them.
 */
@ApplicationScoped
public class WebhookStore {

    private static final Logger LOG = Logger.getLogger(WebhookStore.class);
    private static final int PARTITIONS = 3;

    private final Map<String, Object> kafka;
    private final PolicyConfig.WebhookSettings config;
    private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    /** Latest dead letters per subscription id; at most 2 x max-subscriptions ids (deleted ones leave). */
    private final Map<String, Deque<DeadLetter>> dead;
    private KafkaProducer<String, byte[]> producer;
    private TopicFollower subscriptionFollower;
    private TopicFollower deadFollower;

    public WebhookStore(PolicyConfig config, @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.kafka = kafka;
        this.config = config.webhooks();
        int maxIds = Math.max(1, this.config.maxSubscriptions() * 2);
        this.dead = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Deque<DeadLetter>> eldest) {
                return size() > maxIds;
            }
        };
    }

    void onStart(@Observes StartupEvent event) throws InterruptedException {
        ensure(config.topic(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        ensure(config.retryTopic(), Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(Duration.ofDays(7)
                .toMillis())));
        ensure(config.deadTopic(), Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(Duration.ofDays(7)
                .toMillis())));
        producer = new KafkaProducer<>(KafkaClients.durableProducer(kafka), new StringSerializer(),
                new ByteArraySerializer());
        subscriptionFollower = new TopicFollower(kafka, config.topic(), this::applySubscription).start();
        deadFollower = new TopicFollower(kafka, config.deadTopic(), this::applyDeadLetter).start();
        if (!subscriptionFollower.awaitCaughtUp(Duration.ofSeconds(10))) {
            LOG.warnf("webhook topic %s not read within 10s: the API shows what is read so far", config.topic());
        }
    }

    void onStop(@Observes ShutdownEvent event) {
        if (subscriptionFollower != null) {
            subscriptionFollower.close();
        }
        if (deadFollower != null) {
            deadFollower.close();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    public List<Subscription> all() {
        return subscriptions.values().stream().sorted(Comparator.comparingLong(Subscription::created)).toList();
    }

    public Optional<Subscription> get(String id) {
        return Optional.ofNullable(subscriptions.get(id));
    }

    public int size() {
        return subscriptions.size();
    }

    /** Stores the subscription; returns once Kafka acknowledged it. */
    public synchronized void put(Subscription subscription)
            throws InterruptedException, ExecutionException, TimeoutException {
        await(producer.send(new ProducerRecord<>(config.topic(), subscription.id(),
                WebhookCodec.encode(subscription))));
        subscriptions.put(subscription.id(), subscription);
        LOG.infof("webhook %s to %s added by an administrator", subscription.id(), subscription.url());
    }

    /** Writes the subscription's tombstone; returns once Kafka acknowledged it. */
    public synchronized void remove(String id) throws InterruptedException, ExecutionException, TimeoutException {
        await(producer.send(new ProducerRecord<>(config.topic(), id, null)));
        subscriptions.remove(id);
        synchronized (dead) {
            dead.remove(id);
        }
        LOG.infof("webhook %s removed by an administrator", id);
    }

    /** The latest dead letters of a subscription, oldest first. */
    public List<DeadLetter> deadLetters(String id) {
        synchronized (dead) {
            Deque<DeadLetter> letters = dead.get(id);
            return letters == null ? List.of() : new ArrayList<>(letters);
        }
    }

    /** Sends a failed POST to the retry topic (asynchronously: the caller awaits the future before committing). */
    Future<?> retry(Pending pending) {
        return producer.send(new ProducerRecord<>(config.retryTopic(), pending.subscription(),
                WebhookCodec.encode(pending)));
    }

    /** Sends an event given up on to the dead-letter topic. */
    Future<?> deadLetter(DeadLetter letter) {
        return producer.send(new ProducerRecord<>(config.deadTopic(), letter.subscription(),
                WebhookCodec.encode(letter)));
    }

    private void applySubscription(String id, byte[] value) {
        if (id == null) {
            return;
        }
        if (value == null) {
            subscriptions.remove(id);
            return;
        }
        Subscription subscription = WebhookCodec.decode(value, Subscription.class);
        if (subscription == null || !id.equals(subscription.id()) || subscription.secret() == null) {
            LOG.warnf("unreadable webhook subscription %s skipped", id);
            return;
        }
        subscriptions.put(id, subscription);
    }

    private void applyDeadLetter(String id, byte[] value) {
        DeadLetter letter = WebhookCodec.decode(value, DeadLetter.class);
        if (id == null || letter == null) {
            return;
        }
        synchronized (dead) {
            Deque<DeadLetter> letters = dead.computeIfAbsent(id, k -> new ArrayDeque<>());
            letters.addLast(letter);
            while (letters.size() > config.maxDeadLetters()) {
                letters.removeFirst();
            }
        }
    }

    private static void await(Future<?> sent) throws InterruptedException, ExecutionException, TimeoutException {
        sent.get(30, TimeUnit.SECONDS);
    }

    private void ensure(String topic, Map<String, String> configs) {
        try (Admin admin = Admin.create(KafkaClients.settings(kafka))) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(PARTITIONS), Optional.empty())
                    .configs(configs))).all().get(30, TimeUnit.SECONDS);
            LOG.infof("created the webhook topic %s", topic);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                LOG.warnf("could not create the webhook topic %s: %s", topic, e.getCause());
            }
        } catch (TimeoutException e) {
            LOG.warnf("could not create the webhook topic %s: timed out", topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
