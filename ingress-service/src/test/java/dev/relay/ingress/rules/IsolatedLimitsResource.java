package dev.relay.ingress.rules;

import dev.relay.testkit.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;
import java.util.UUID;

/**
 * A usage topic of this test run's own on the build-wide broker. (Quarkus applies test resources to every test
 * of the module, so the rules topic stays {@link IsolatedRulesTopicResource}'s: one property, one owner.)
 */
public class IsolatedLimitsResource implements QuarkusTestResourceLifecycleManager {

    static final String PREFIX = "ingress-limits-" + UUID.randomUUID().toString().substring(0, 8) + ".";
    static final String USAGE = PREFIX + "usage";

    @Override
    public Map<String, String> start() {
        KafkaBroker.shared().createUsageTopic(USAGE);
        return Map.of("relay.limits.usage-topic", USAGE);
    }

    @Override
    public void stop() {
        // the topics are unique to this run; the shared broker outlives the test
    }
}
