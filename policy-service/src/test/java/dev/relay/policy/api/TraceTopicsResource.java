package dev.relay.policy.api;

import dev.relay.policy.consume.IsolatedTopicsResource;

import java.util.HashMap;
import java.util.Map;

/**
 * {@link IsolatedTopicsResource} with the trace's bounds made small for the test: 5 events per message, a
 * retention of 10 minutes checked every second.
 */
public class TraceTopicsResource extends IsolatedTopicsResource {

    public static final String EVENTS = PREFIX + "events";
    public static final int MAX_EVENTS = 5;
    public static final java.time.Duration RETENTION = java.time.Duration.ofMinutes(10);

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        config.put("relay.policy.trace.max-events", String.valueOf(MAX_EVENTS));
        config.put("relay.policy.trace.retention", "10m");
        config.put("relay.policy.trace.purge-interval", "1s");
        config.put("relay.policy.trace.max-page-size", "20");
        return config;
    }
}
