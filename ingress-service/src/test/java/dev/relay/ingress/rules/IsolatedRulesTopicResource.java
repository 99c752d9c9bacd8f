package dev.relay.ingress.rules;

import dev.relay.testkit.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;
import java.util.UUID;

/** A rules topic of this test run's own on the build-wide broker, so that no other test's rules reach it. */
public class IsolatedRulesTopicResource implements QuarkusTestResourceLifecycleManager {

    static final String TOPIC = "ingress-test-" + UUID.randomUUID().toString().substring(0, 8) + ".rules";

    @Override
    public Map<String, String> start() {
        KafkaBroker.shared().createCompactedTopic(TOPIC);
        return Map.of("relay.rules.topic", TOPIC);
    }

    @Override
    public void stop() {
        // the topic is unique to this run; the shared broker outlives the test
    }
}
