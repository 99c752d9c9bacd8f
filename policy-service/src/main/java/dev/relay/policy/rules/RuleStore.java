package dev.relay.policy.rules;

import dev.relay.common.kafka.KafkaClients;
import dev.relay.common.rules.RelayRules;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.common.rules.RulesConfig;
import dev.relay.common.rules.RulesFollower;
import dev.relay.common.rules.RulesHolder;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.config.PolicyMetrics;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
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
import io.smallrye.common.annotation.Identifier;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Owns the rules topic ({@code relay.rules.topic}, compacted, key = rule-set id {@value RulesFollower#DEFAULT_RULE_SET}):
 * creates it when missing, follows it (the rules in force are the newest valid record), seeds it on first start
 * from {@code relay.policy.rules-file} or the {@code relay.rules.*} configuration, and writes new rule sets for the
 * admin API, returning only once Kafka acknowledged the record and this instance applies it.
 */
@ApplicationScoped
public class RuleStore {

    private static final Logger LOG = Logger.getLogger(RuleStore.class);

    private final RulesHolder holder;
    private final String topic;
    private final Map<String, Object> kafka;
    private final PolicyConfig config;
    private KafkaProducer<String, byte[]> producer;
    private RulesFollower follower;

    /** @param kafka every {@code kafka.*} property (bootstrap servers, and in a cluster the security settings) */
    public RuleStore(RulesConfig rules, PolicyConfig config,
                     @Identifier("default-kafka-broker") Map<String, Object> kafka, PolicyMetrics metrics) {
        this.holder = new RulesHolder(rules.toRules());
        this.topic = rules.topic();
        this.kafka = kafka;
        this.config = config;
        metrics.rulesRevision(() -> holder.current().revision());
    }

    /** Early, so that the first inbound message is decided with the stored rules, not the seed. */
    void onStart(@Observes @Priority(100) StartupEvent event) throws Exception {
        createTopic();
        Properties props = KafkaClients.durableProducer(kafka);
        producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        follower = new RulesFollower(kafka, topic, RulesFollower.DEFAULT_RULE_SET, holder).start();
        if (!follower.awaitCaughtUp(config.rulesStartupTimeout())) {
            LOG.warnf("rules topic %s not read within %s: running with the configured rules until it is", topic,
                    config.rulesStartupTimeout());
            return;
        }
        if (!follower.sawRuleSet()) {
            RuleSet seed = seed();
            long revision = publish(seed);
            LOG.infof("rules topic %s was empty: seeded revision %d from %s", topic, revision,
                    config.rulesFile().orElse("the relay.rules.* configuration"));
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

    /** The rules in force, for the engine: read per decision. */
    public RulesHolder holder() {
        return holder;
    }

    /** The outcome of a conditional replace: stored (its new revision) or refused as stale. */
    public sealed interface Replace {
        record Stored(long revision, long replaced) implements Replace {
        }

        /** {@code expected} was not the revision in force ({@code current}): nothing was written. */
        record Stale(long expected, long current) implements Replace {
        }
    }

    /**
     * Optimistic concurrency for the admin API: stores the rule set only if {@code expected} is the revision in
     * force on this instance (empty: unconditionally). Writes through one instance are serialised, so two admins
     * replacing the same revision through it cannot both succeed. Across instances the check is only as fresh as
     * this instance's follower (usually well under a second behind); a client that saw a newer revision elsewhere
     * waits for it here briefly instead of being refused.
     */
    public synchronized Replace replace(RuleSet set, java.util.OptionalLong expected)
            throws InterruptedException, ExecutionException, TimeoutException {
        long current = holder.current().revision();
        if (expected.isPresent() && expected.getAsLong() != current) {
            if (expected.getAsLong() > current && holder.awaitRevision(expected.getAsLong(), Duration.ofSeconds(5))) {
                current = holder.current().revision();
            }
            if (expected.getAsLong() != current) {
                return new Replace.Stale(expected.getAsLong(), current);
            }
        }
        return new Replace.Stored(publish(set), current);
    }

    /**
     * Stores a rule set (the caller validated it) and waits until Kafka acknowledged it and this instance
     * follows it. @return its revision (the record's offset)
     */
    public synchronized long publish(RuleSet set) throws InterruptedException, ExecutionException, TimeoutException {
        RelayRules rules = RelayRules.from(set);
        long offset = producer.send(new ProducerRecord<>(topic, RulesFollower.DEFAULT_RULE_SET,
                RuleSetCodec.encode(set))).get(30, TimeUnit.SECONDS).offset();
        if (!holder.awaitRevision(offset, Duration.ofSeconds(10))) {
            // acknowledged, so it is stored; this instance applies it as soon as its follower reads it
            holder.update(rules, offset);
        }
        return offset;
    }

    private RuleSet seed() throws IOException {
        if (config.rulesFile().isPresent()) {
            return RuleSetCodec.parseValid(Files.readAllBytes(Path.of(config.rulesFile().get())));
        }
        return holder.current().rules().ruleSet();
    }

    private void createTopic() throws InterruptedException {
        Properties props = KafkaClients.settings(kafka);
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) -1).configs(Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
                    .all().get(30, TimeUnit.SECONDS);
            LOG.infof("created the compacted rules topic %s", topic);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                LOG.warnf("could not create the rules topic %s: %s", topic, e.getCause().toString());
            }
        } catch (TimeoutException e) {
            LOG.warnf("could not create the rules topic %s: timed out", topic);
        }
    }
}
