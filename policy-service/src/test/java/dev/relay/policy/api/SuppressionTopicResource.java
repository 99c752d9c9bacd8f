package dev.relay.policy.api;

import dev.relay.policy.consume.IsolatedTopicsResource;
import dev.relay.testkit.KafkaBroker;

import java.util.HashMap;
import java.util.Map;

/** {@link IsolatedTopicsResource} plus a suppression topic of this test run's own. */
public class SuppressionTopicResource extends IsolatedTopicsResource {

    public static final String TOPIC = PREFIX + "suppression";

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        KafkaBroker.shared().createCompactedTopic(TOPIC);
        config.put("relay.policy.suppression.topic", TOPIC);
        config.put("relay.policy.suppression.max-page-size", "5");
        return config;
    }
}
