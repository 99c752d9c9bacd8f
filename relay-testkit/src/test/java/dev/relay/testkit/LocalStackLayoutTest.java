package dev.relay.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The layouts of {@code ./relay up}: one broker exactly as before, or with {@code RELAY_KAFKA_BROKERS=3} three
 * nodes on the documented ports, every one of them a bootstrap server for the services. Processes are started by
 * LauncherIT; this checks the plan without starting anything.
 */
class LocalStackLayoutTest {

    @Test
    void oneBrokerIsTheDefaultAndUnchanged() {
        assertEquals(1, LocalStack.requestedBrokers(null));
        assertEquals(1, LocalStack.requestedBrokers(""));
        assertEquals(1, LocalStack.requestedBrokers("1"));
        assertSame(LocalStack.COMPONENTS, LocalStack.components(1));
        LocalStack.Component kafka = LocalStack.COMPONENTS.get(0);
        assertEquals("kafka", kafka.name());
        assertEquals(9092, kafka.port());
        assertEquals(List.of(9093), kafka.otherPorts());
        LocalStack.Component ingress = LocalStack.COMPONENTS.stream().filter(c -> c.name().equals("ingress"))
                .findFirst().orElseThrow();
        assertEquals("127.0.0.1:9092", LocalStack.serviceEnv(ingress, 1).get("KAFKA_BOOTSTRAP_SERVERS"));
    }

    @Test
    void threeBrokersReplaceTheSingleOneOnTheirOwnPorts() {
        assertEquals(3, LocalStack.requestedBrokers("3"));
        List<LocalStack.Component> components = LocalStack.components(3);
        assertEquals(List.of("kafka-0", "kafka-1", "kafka-2", "keycloak", "capture-mx", "ingress", "policy",
                "delivery"), components.stream().map(LocalStack.Component::name).toList());
        assertEquals(List.of(9092, 9093, 9094), components.subList(0, 3).stream()
                .map(LocalStack.Component::port).toList());
        assertEquals(List.of(List.of(9095), List.of(9096), List.of(9097)), components.subList(0, 3).stream()
                .map(LocalStack.Component::otherPorts).toList());
        LocalStack.Component ingress = components.get(5);
        if (System.getenv("KAFKA_BOOTSTRAP_SERVERS") == null) {
            assertEquals("127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094",
                    LocalStack.serviceEnv(ingress, 3).get("KAFKA_BOOTSTRAP_SERVERS"));
        }
    }

    @Test
    void otherBrokerCountsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> LocalStack.requestedBrokers("2"));
        assertThrows(IllegalArgumentException.class, () -> LocalStack.requestedBrokers("three"));
    }
}
