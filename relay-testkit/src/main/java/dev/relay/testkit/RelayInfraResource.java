package dev.relay.testkit;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Quarkus test resource that makes sure the build-wide test Kafka (with the relay topics) and, unless the init arg
 * {@code keycloak=false} is given, the test Keycloak run, and points the application at them:
 * {@code kafka.bootstrap.servers} and {@code relay.ingress.keycloak.url}. Nothing is stopped afterwards: the servers
 * serve the whole build ({@code ./relay test} stops them at the end).
 *
 * <pre>
 * &#64;QuarkusTestResource(RelayInfraResource.class)
 * &#64;QuarkusTestResource(value = RelayInfraResource.class, initArgs = &#64;ResourceArg(name = "keycloak", value = "false"))
 * </pre>
 */
public class RelayInfraResource implements QuarkusTestResourceLifecycleManager {

    private boolean keycloak = true;

    @Override
    public void init(Map<String, String> initArgs) {
        keycloak = !"false".equalsIgnoreCase(initArgs.getOrDefault("keycloak", "true"));
    }

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new LinkedHashMap<>();
        // the two start side by side: Keycloak's start overlaps Kafka's
        CompletableFuture<KeycloakServer> keycloakServer = keycloak
                ? CompletableFuture.supplyAsync(KeycloakServer::shared)
                : CompletableFuture.completedFuture(null);
        KafkaBroker kafka = KafkaBroker.shared();
        KafkaBroker.createRelayTopics(kafka.bootstrapServers());
        config.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        if (keycloak) {
            try {
                config.put("relay.ingress.keycloak.url", keycloakServer.join().url());
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause() : e;
            }
        }
        return config;
    }

    @Override
    public void stop() {
        // shared servers outlive the test class and this JVM
    }
}
