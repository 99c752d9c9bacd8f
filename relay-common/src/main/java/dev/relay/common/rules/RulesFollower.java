package dev.relay.common.rules;

import dev.relay.common.kafka.WholeTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Follows the compacted rules topic on a dedicated thread: reads every partition from the beginning without a
 * consumer group (assign, no commits), and puts the newest <em>valid</em> rule set under {@code ruleSetId} into a
 * {@link RulesHolder}. An invalid or undecodable record is logged and skipped: the rules in force stay.
 */
public final class RulesFollower implements AutoCloseable {

    public static final String DEFAULT_RULE_SET = "default";
    private static final System.Logger LOG = System.getLogger(RulesFollower.class.getName());

    private final String topic;
    private final String ruleSetId;
    private final RulesHolder holder;
    private final KafkaConsumer<String, byte[]> consumer;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean sawRuleSet;

    public RulesFollower(String bootstrapServers, String topic, String ruleSetId, RulesHolder holder) {
        this(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), topic, ruleSetId, holder);
    }

    /**
     * @param kafka client properties (every {@code kafka.*} property of the service: bootstrap servers and, in a
     *              cluster, the security settings); group and commit settings are overridden
     */
    public RulesFollower(Map<String, Object> kafka, String topic, String ruleSetId, RulesHolder holder) {
        this.topic = topic;
        this.ruleSetId = ruleSetId;
        this.holder = holder;
        this.consumer = WholeTopic.consumer(kafka, "relay-rules-follower-" + topic);
        this.thread = new Thread(this::run, "relay-rules-follower");
        this.thread.setDaemon(true);
    }

    public RulesFollower start() {
        thread.start();
        return this;
    }

    /** Waits until everything in the topic at start was read. @return whether that happened in time */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether a valid rule set was found in the topic (meaningful after {@link #awaitCaughtUp}). */
    public boolean sawRuleSet() {
        return sawRuleSet;
    }

    private void run() {
        try {
            List<TopicPartition> partitions = WholeTopic.assignFromBeginning(consumer, topic, () -> running,
                    "rules topic " + topic + " not there yet; using the rules in force");
            if (partitions.isEmpty()) {
                return;
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    apply(record);
                }
                if (caughtUp.getCount() > 0 && end.entrySet().stream()
                        .allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "rules follower for " + topic + " stopped", e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (!ruleSetId.equals(record.key()) || record.value() == null) {
            return;
        }
        try {
            RelayRules rules = RelayRules.from(RuleSetCodec.parse(record.value()));
            holder.update(rules, record.offset());
            sawRuleSet = true;
            LOG.log(System.Logger.Level.INFO, "relay rules revision " + record.offset() + " in force");
        } catch (RuleSetException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring invalid rule set at " + topic + "@" + record.offset()
                    + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
