package dev.relay.policy.api;

import dev.relay.policy.consume.IsolatedTopicsResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keycloak unreachable: health and metrics still answer (a Keycloak outage must not make the orchestrator restart
 * a policy service that processes mail), and the admin API still refuses every caller.
 */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
@TestProfile(HealthWithoutKeycloakTest.KeycloakUnreachable.class)
class HealthWithoutKeycloakTest {

    public static class KeycloakUnreachable implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.oidc.auth-server-url", "http://127.0.0.1:1/realms/relay");
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/")
    URI root;

    private int status(String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(root.resolve(path));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void shouldAnswerHealthAndMetricsWhileKeycloakIsUnreachable() throws Exception {
        assertThat(status("/q/health/live", null)).isEqualTo(200);
        assertThat(status("/q/health/ready", null)).isEqualTo(200);
        assertThat(status("/q/metrics", null)).isEqualTo(200);
    }

    @Test
    void shouldStillRefuseTheAdminApiWhileKeycloakIsUnreachable() throws Exception {
        // quarkus-oidc answers 500 while it cannot reach Keycloak to build its challenge: never 200
        assertThat(status("/api/rules", null)).isIn(401, 500);
        assertThat(status("/api/rules", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")).isIn(401, 500);
    }
}
