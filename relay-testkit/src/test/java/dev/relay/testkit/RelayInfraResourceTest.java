package dev.relay.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class RelayInfraResourceTest {

    @Test
    void pointsTheApplicationAtTheSharedServers() {
        RelayInfraResource withoutKeycloak = new RelayInfraResource();
        withoutKeycloak.init(Map.of("keycloak", "false"));
        Map<String, String> config = withoutKeycloak.start();
        assertEquals(KafkaBroker.shared().bootstrapServers(), config.get("kafka.bootstrap.servers"));
        assertFalse(config.containsKey("relay.ingress.keycloak.url"));
        withoutKeycloak.stop();
        assertTrue(KafkaBroker.shared().isRunning(), "the shared broker outlives the resource");
    }
}
