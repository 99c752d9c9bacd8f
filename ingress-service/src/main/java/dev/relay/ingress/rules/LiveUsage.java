package dev.relay.ingress.rules;

import dev.relay.common.rules.Count;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Usage;
import dev.relay.common.usage.LimitsConfig;
import dev.relay.common.usage.UsageFollower;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * The cluster-wide rate-limit usage the SMTP sessions check at MAIL and RCPT: every policy instance's counts as
 * followed from the usage topic ({@code relay.limits.usage-topic}). The ingress never counts: the policy service
 * is the authority, and holds what a stale view here let through.
 *
 * <p>The ingress does count one thing in the same topic: failed AUTH attempts (its {@code AuthThrottle}), under
 * {@link #instance()}. This follower skips that instance's records, which the throttle knows exactly.
 */
@ApplicationScoped
public class LiveUsage implements Usage {

    private static final Logger LOG = Logger.getLogger(LiveUsage.class);
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(10);

    private final String topic;
    private final Map<String, Object> kafka;
    private final String instance = UUID.randomUUID().toString();
    private volatile UsageFollower follower;

    /** @param kafka every {@code kafka.*} property (bootstrap servers, and in a cluster the security settings) */
    public LiveUsage(LimitsConfig limits, @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.topic = limits.usageTopic();
        this.kafka = kafka;
    }

    /** Before the SMTP listeners open (they observe the same event at the default priority). */
    void onStart(@Observes @Priority(110) StartupEvent event) throws InterruptedException {
        follower = new UsageFollower(kafka, topic, instance, Clock.systemUTC()).start();
        if (!follower.awaitCaughtUp(STARTUP_WAIT)) {
            LOG.warnf("usage topic %s not read within %s: rate limits count from what arrives", topic, STARTUP_WAIT);
        }
    }

    void onStop(@Observes ShutdownEvent event) {
        if (follower != null) {
            follower.close();
        }
    }

    /** This ingress instance's id in the usage topic (its AUTH throttle's counts). */
    public String instance() {
        return instance;
    }

    @Override
    public Count used(Slot slot) {
        UsageFollower f = follower;
        return f == null ? Count.ZERO : f.used(slot);
    }
}
