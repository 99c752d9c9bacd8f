package dev.relay.policy.route;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.rules.Count;
import dev.relay.common.rules.Exceeded;
import dev.relay.common.rules.RateLimits;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Subject;
import dev.relay.common.rules.Usage;
import dev.relay.common.usage.LimitsConfig;
import dev.relay.common.usage.UsageCounter;
import dev.relay.common.usage.UsageFollower;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.rules.RuleStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * The policy's side of the cluster-wide rate limits: this process counts what it routes
 * ({@link UsageCounter}, published to {@code relay.limits.usage-topic} under a per-process instance id) and
 * follows what every other instance, past ones included, counted ({@link UsageFollower}). A message is admitted
 * when it fits every applicable limit given both; admission and counting happen under one lock, so the inbound
 * consumer and the held-message releaser of this process never overshoot each other.
 */
@ApplicationScoped
public class RateLimiter {

    private static final Logger LOG = Logger.getLogger(RateLimiter.class);

    /** Either the slots the message was counted in, or the limit it exceeds. */
    public sealed interface Admission {
        record Admitted(Set<Slot> slots) implements Admission {
        }

        record Refused(Exceeded exceeded) implements Admission {
        }
    }

    private final RuleStore rules;
    private final PolicyConfig config;
    private final Clock clock;
    private final String topic;
    private final Map<String, Object> kafka;
    private UsageCounter counter;
    private UsageFollower follower;

    public RateLimiter(RuleStore rules, PolicyConfig config, LimitsConfig limits, Clock clock,
                       @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.rules = rules;
        this.config = config;
        this.clock = clock;
        this.topic = limits.usageTopic();
        this.kafka = kafka;
    }

    /** After the rules (priority 100), before messages flow: counts of the past must be known first. */
    void onStart(@Observes @Priority(150) StartupEvent event) throws InterruptedException {
        counter = new UsageCounter(kafka, topic, clock);
        follower = new UsageFollower(kafka, topic, counter.instance(), clock).start();
        if (!follower.awaitCaughtUp(config.rulesStartupTimeout())) {
            LOG.warnf("usage topic %s not read within %s: limits count from what arrives", topic,
                    config.rulesStartupTimeout());
        }
        LOG.infof("rate limits: counting as instance %s on %s", counter.instance(), topic);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (follower != null) {
            follower.close();
        }
        if (counter != null) {
            counter.close();
        }
    }

    /**
     * Admits a message with {@code recipients} routed recipients and counts it, or names the limit it would
     * exceed (and counts nothing).
     */
    public synchronized Admission admit(Envelope envelope, int recipients) {
        RateLimits limits = rules.holder().get().rateLimits();
        if (limits.isEmpty() || recipients == 0) {
            return new Admission.Admitted(Set.of());
        }
        Subject subject = Subject.of(envelope.identity(), envelope.mailFrom(), envelope.clientAddress());
        Instant now = clock.instant();
        var over = limits.admit(subject, usage(), now, 1, recipients);
        if (over.isPresent()) {
            return new Admission.Refused(over.get());
        }
        Set<Slot> slots = limits.slots(subject, now);
        counter.add(slots, new Count(1, recipients));
        return new Admission.Admitted(slots);
    }

    /** Publishes the counts of these slots; may be retried (it always sends the newest cumulative values). */
    public Uni<Void> publish(Set<Slot> slots) {
        if (slots.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Uni.createFrom().deferred(() -> Uni.createFrom().completionStage(counter.publish(slots)));
    }

    /** This instance's counts plus every other instance's, as far as they have arrived. */
    public Usage usage() {
        return counter.plus(follower);
    }
}
