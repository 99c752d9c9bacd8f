package dev.relay.ingress.events;

import dev.relay.testkit.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An events topic and a rules topic of this test class's own on the build-wide broker (prefix {@code o1-}), so that
 * no other test reads its events and no other test's rules reach it. Init arg {@code mode}:
 * <ul>
 * <li>{@code refusals}: at most 3 refusals reported per session, and a high error limit so that a client can
 * send many refused RCPTs in one session;</li>
 * <li>{@code saturated}: the events topic does not exist (the broker does not create topics), so the events
 * thread waits for its metadata; a queue of 1 behind it: every further event must be dropped, not queued;</li>
 * <li>{@code debug-json}: DEBUG logging and JSON console lines.</li>
 * </ul>
 */
public class EventsResource implements QuarkusTestResourceLifecycleManager {

    private String mode = "refusals";

    @Override
    public void init(Map<String, String> initArgs) {
        mode = initArgs.getOrDefault("mode", mode);
    }

    @Override
    public Map<String, String> start() {
        String prefix = "o1-" + UUID.randomUUID().toString().substring(0, 8);
        KafkaBroker broker = KafkaBroker.shared();
        broker.createCompactedTopic(prefix + ".rules");
        Map<String, String> config = new HashMap<>();
        config.put("relay.rules.topic", prefix + ".rules");
        String events = prefix + ".events";
        switch (mode) {
            case "saturated" -> {
                events = prefix + ".never-created";
                config.put("relay.ingress.events.queue-capacity", "1");
                config.put("relay.ingress.events.max-block", "120s");
            }
            case "debug-json" -> {
                broker.createTopics(List.of(events), 1);
                config.put("quarkus.log.level", "DEBUG");
                config.put("quarkus.log.console.level", "INFO");
                config.put("quarkus.log.console.json.enabled", "true");
            }
            default -> {
                broker.createTopics(List.of(events), 1);
                config.put("relay.ingress.events.max-refusals-per-session", "3");
                config.put("relay.ingress.smtp.max-errors", "1000");
            }
        }
        config.put("relay.ingress.events.topic", events);
        return config;
    }

    @Override
    public void stop() {
        // the topics are unique to this run; the shared broker outlives the test
    }
}
