package dev.relay.policy.webhook;

import dev.relay.policy.consume.IsolatedTopicsResource;

import java.util.HashMap;
import java.util.Map;

/** {@link IsolatedTopicsResource} plus webhook topics and groups of this run's own, quick retries, http allowed. */
public class WebhookTopicsResource extends IsolatedTopicsResource {

    public static final String GROUP = "W-" + PREFIX + "webhooks";

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        config.put("relay.policy.webhooks.topic", PREFIX + "webhooks");
        config.put("relay.policy.webhooks.retry-topic", PREFIX + "webhooks-retry");
        config.put("relay.policy.webhooks.dead-topic", PREFIX + "webhooks-dead");
        config.put("relay.policy.webhooks.group", GROUP);
        config.put("relay.policy.webhooks.retry-group", "W-" + PREFIX + "webhooks-retry");
        config.put("relay.policy.webhooks.allow-http", "true");
        config.put("relay.policy.webhooks.backoff", "1s,2s");
        config.put("relay.policy.webhooks.max-attempts", "3");
        config.put("relay.policy.webhooks.timeout", "3s");
        config.put("relay.policy.webhooks.max-subscriptions", "4");
        return config;
    }
}
