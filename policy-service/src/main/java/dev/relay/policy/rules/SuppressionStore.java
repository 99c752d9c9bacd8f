package dev.relay.policy.rules;

import dev.relay.common.kafka.KafkaClients;
import dev.relay.common.suppression.SuppressionCodec;
import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.common.suppression.SuppressionFollower;
import dev.relay.common.suppression.SuppressionList;
import dev.relay.common.suppression.SuppressionTopic;
import dev.relay.policy.config.PolicyConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The suppression list for the admin API (docs/adr/0015): follows the compacted topic {@code relay.suppression.v1}
 * into a bounded list ({@code relay.policy.suppression.max-entries}) and writes entries (an administrator's) and
 * tombstones (removals), returning only once Kafka acknowledged them; this instance's list takes the change at once
 * (the follower then reads the same record again). The delivery workers follow the same topic and see the change
 * within their poll interval.
 */
@ApplicationScoped
public class SuppressionStore {

    private static final Logger LOG = Logger.getLogger(SuppressionStore.class);

    private final Map<String, Object> kafka;
    private final String topic;
    private final SuppressionList list;
    private final Clock clock = Clock.systemUTC();
    private KafkaProducer<String, byte[]> producer;
    private SuppressionFollower follower;

    public SuppressionStore(PolicyConfig config, @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.kafka = kafka;
        this.topic = config.suppression().topic();
        this.list = new SuppressionList(config.suppression().maxEntries());
    }

    void onStart(@Observes StartupEvent event) throws InterruptedException {
        SuppressionTopic.ensure(kafka, topic);
        producer = new KafkaProducer<>(KafkaClients.durableProducer(kafka), new StringSerializer(),
                new ByteArraySerializer());
        follower = new SuppressionFollower(kafka, topic, list, clock).start();
        if (!follower.awaitCaughtUp(Duration.ofSeconds(10))) {
            LOG.warnf("suppression topic %s not read within 10s: the admin API shows what is read so far", topic);
        }
    }

    void onStop(@Observes ShutdownEvent event) {
        if (follower != null) {
            follower.close();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }

    public Instant now() {
        return clock.instant();
    }

    public Optional<SuppressionEntry> get(String address) {
        return list.active(address, clock.instant());
    }

    public SuppressionList.Page page(String filter, int page, int size) {
        return list.page(filter, page, size, clock.instant());
    }

    /** Stores the entry; returns once Kafka acknowledged it. */
    public synchronized void put(SuppressionEntry entry)
            throws InterruptedException, ExecutionException, TimeoutException {
        producer.send(new ProducerRecord<>(topic, entry.address(), SuppressionCodec.encode(entry)))
                .get(30, TimeUnit.SECONDS);
        list.put(entry);
        LOG.infof("suppression of %s until %s added by an administrator", entry.address(), entry.until());
    }

    /** Writes the tombstone of the address; returns once Kafka acknowledged it. */
    public synchronized void remove(String address) throws InterruptedException, ExecutionException, TimeoutException {
        String key = SuppressionEntry.key(address);
        producer.send(new ProducerRecord<>(topic, key, null)).get(30, TimeUnit.SECONDS);
        list.remove(key);
        LOG.infof("suppression of %s removed by an administrator", key);
    }
}
