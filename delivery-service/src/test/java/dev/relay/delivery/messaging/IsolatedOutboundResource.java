package dev.relay.delivery.messaging;

import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.RelayInfraResource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The build's real Kafka broker with an outbound topic, consumer group and suppression topic of this test run's
 * own: other delivery tests running against the same broker at the same time (their group is
 * {@code relay-delivery-test} too) can then neither take this test's records nor see its entries. Tests read the
 * names from the configuration (the resource may live in another class loader).
 */
public class IsolatedOutboundResource extends RelayInfraResource {

    private static final String PREFIX = "delivery-test-" + UUID.randomUUID().toString().substring(0, 8) + ".";

    @Override
    public void init(Map<String, String> initArgs) {
        super.init(Map.of("keycloak", "false"));
    }

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        KafkaBroker kafka = KafkaBroker.shared();
        kafka.createTopics(List.of(PREFIX + "outbound"), 3);
        kafka.createCompactedTopic(PREFIX + "suppression");
        config.put("mp.messaging.incoming.outbound.topic", PREFIX + "outbound");
        config.put("mp.messaging.outgoing.mail-out.topic", PREFIX + "outbound");
        config.put("mp.messaging.incoming.outbound.group.id", PREFIX + "group");
        config.put("relay.delivery.suppression.topic", PREFIX + "suppression");
        config.put("mp.messaging.outgoing.suppression-out.topic", PREFIX + "suppression");
        return config;
    }
}
