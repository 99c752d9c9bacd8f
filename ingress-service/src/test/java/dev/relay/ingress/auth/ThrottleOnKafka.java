package dev.relay.ingress.auth;

import dev.relay.common.usage.UsageCounter;
import dev.relay.common.usage.UsageFollower;
import dev.relay.testkit.KafkaBroker;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@link AuthThrottle}s counting in a fresh usage topic of the real test Kafka, as the application builds them:
 * each instance its own {@link UsageCounter} and a {@link UsageFollower} that skips its own records. Several
 * throttles built by one of these share the topic, like ingress instances in a cluster. Close after the test.
 */
final class ThrottleOnKafka implements AutoCloseable {

    private final String topic = "relay.usage.test-" + UUID.randomUUID();
    private final Map<String, Object> kafka;
    private final List<AutoCloseable> open = new ArrayList<>();

    ThrottleOnKafka() {
        KafkaBroker broker = KafkaBroker.shared();
        broker.createUsageTopic(topic);
        kafka = Map.of("bootstrap.servers", broker.bootstrapServers());
    }

    AuthThrottle throttle(AuthThrottle.Limits limits, Clock clock, List<String> usernameDomains) {
        String instance = UUID.randomUUID().toString();
        UsageFollower others = new UsageFollower(kafka, topic, instance, clock).start();
        try {
            others.awaitCaughtUp(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        AuthThrottle throttle = new AuthThrottle(limits, clock, new UsageCounter(kafka, topic, clock, instance),
                others, usernameDomains);
        open.add(throttle);
        open.add(others);
        return throttle;
    }

    @Override
    public void close() {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort at the end of a test
            }
        }
    }
}
