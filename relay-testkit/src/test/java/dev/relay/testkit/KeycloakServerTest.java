package dev.relay.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;

class KeycloakServerTest {

    @Test
    void sharedKeycloakServesTheRelayRealm() throws Exception {
        assumeTrue(realmFilePresent(), "no realm file yet (deploy/keycloak/relay-realm.json or -Drelay.test.realm-file)");
        KeycloakServer keycloak = KeycloakServer.shared();
        assertTrue(keycloak.isRunning());
        assertEquals("http://127.0.0.1:" + Integer.getInteger("relay.test.keycloak.port", 18180), keycloak.url());
        assertEquals(keycloak.url() + "/realms/relay", keycloak.realmUrl());

        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(keycloak.realmUrl() + "/.well-known/openid-configuration")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"token_endpoint\":\"" + keycloak.tokenEndpoint() + "\""),
                response.body());
        assertTrue(KeycloakServer.shared() == keycloak, "shared() is one instance per JVM");

        // the demo user of the development realm gets a token through the ingress client
        String secret = null;
        for (JsonNode client : new ObjectMapper().readTree(KeycloakServer.realmFile().toFile()).path("clients")) {
            if ("relay-ingress".equals(client.path("clientId").asText())) {
                secret = client.path("secret").asText(null);
            }
        }
        assumeTrue(secret != null, "no relay-ingress client in the realm file");
        String token = keycloak.passwordGrant("relay-ingress", secret, "demo", "demo-password");
        assertEquals(3, token.split("\\.").length, token);
    }

    private static boolean realmFilePresent() {
        try {
            return Files.isRegularFile(KeycloakServer.realmFile());
        } catch (IllegalStateException e) {
            return false;
        }
    }
}
