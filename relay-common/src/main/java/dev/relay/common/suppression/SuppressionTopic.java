package dev.relay.common.suppression;

import dev.relay.common.kafka.KafkaClients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates the compacted suppression topic when it is missing (a first local start; in Kubernetes its KafkaTopic
 * resource exists first), as the policy does for the rules topic. Best effort: a failure is logged, and the
 * follower then waits for the topic while writes fail (and their records stay uncommitted) until it exists.
 */
public final class SuppressionTopic {

    private static final System.Logger LOG = System.getLogger(SuppressionTopic.class.getName());
    /** Partitions when created here: the key spreads addresses, every reader follows all of them. */
    public static final int PARTITIONS = 3;

    private SuppressionTopic() {
    }

    public static void ensure(Map<String, Object> kafka, String topic) {
        try (Admin admin = Admin.create(KafkaClients.settings(kafka))) {
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(PARTITIONS), Optional.empty()).configs(Map.of(
                    TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
                    .all().get(30, TimeUnit.SECONDS);
            LOG.log(System.Logger.Level.INFO, "created the compacted suppression topic " + topic);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                LOG.log(System.Logger.Level.WARNING, "could not create the suppression topic " + topic + ": "
                        + e.getCause());
            }
        } catch (TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "could not create the suppression topic " + topic + ": timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
