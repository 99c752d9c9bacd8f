package dev.relay.common.rules;

import dev.relay.common.kafka.WholeTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.time.Duration;
import java.util.Map;

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
    private final WholeTopic follower;
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
        this.follower = new WholeTopic(kafka, topic, "relay-rules-follower", Duration.ofMillis(500),
                "rules topic " + topic + " not there yet; using the rules in force", this::apply, () -> { });
    }

    public RulesFollower start() {
        follower.start();
        return this;
    }

    /** Waits until everything in the topic at start was read. @return whether that happened in time */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return follower.awaitCaughtUp(timeout);
    }

    /** Whether a valid rule set was found in the topic (meaningful after {@link #awaitCaughtUp}). */
    public boolean sawRuleSet() {
        return sawRuleSet;
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
        follower.close();
    }
}
