package dev.relay.ingress.rules;

import dev.relay.common.rules.RelayRules;
import dev.relay.common.rules.RulesConfig;
import dev.relay.common.rules.RulesFollower;
import dev.relay.common.rules.RulesHolder;
import dev.relay.ingress.metrics.IngressMetrics;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import io.smallrye.common.annotation.Identifier;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The relay rules the SMTP sessions decide with: the {@code relay.rules.*} configuration until the rules topic
 * ({@code relay.rules.topic}, written by the policy service) was read, then always its newest valid rule set.
 * Sessions read {@link #get()} at every RCPT, so a change applies to the next command, without a restart.
 */
@ApplicationScoped
public class LiveRules implements Supplier<RelayRules> {

    private static final Logger LOG = Logger.getLogger(LiveRules.class);
    /** Startup waits this long for the topic so that the first sessions already use the stored rules. */
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(10);

    private final RulesHolder holder;
    private final String topic;
    private final Map<String, Object> kafka;
    private RulesFollower follower;

    /** @param kafka every {@code kafka.*} property (bootstrap servers, and in a cluster the security settings) */
    public LiveRules(RulesConfig rules, @Identifier("default-kafka-broker") Map<String, Object> kafka,
                     IngressMetrics metrics) {
        this.holder = new RulesHolder(rules.toRules());
        this.topic = rules.topic();
        this.kafka = kafka;
        metrics.rulesRevision(() -> holder.current().revision());
    }

    /** Before the SMTP listeners open (they observe the same event at the default priority). */
    void onStart(@Observes @Priority(100) StartupEvent event) throws InterruptedException {
        follower = new RulesFollower(kafka, topic, RulesFollower.DEFAULT_RULE_SET, holder).start();
        if (!follower.awaitCaughtUp(STARTUP_WAIT)) {
            LOG.warnf("rules topic %s not read within %s: using the configured rules until it is", topic,
                    STARTUP_WAIT);
        }
    }

    void onStop(@Observes ShutdownEvent event) {
        if (follower != null) {
            follower.close();
        }
    }

    @Override
    public RelayRules get() {
        return holder.get();
    }

    /** The rules in force and their revision (offset in the rules topic, -1 for the configuration). */
    public RulesHolder.Current current() {
        return holder.current();
    }
}
