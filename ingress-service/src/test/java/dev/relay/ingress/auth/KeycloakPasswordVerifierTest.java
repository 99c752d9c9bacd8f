package dev.relay.ingress.auth;

import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Against the real Keycloak with the relay realm. */
@QuarkusTest
@QuarkusTestResource(RelayInfraResource.class)
class KeycloakPasswordVerifierTest {

    @Inject
    KeycloakPasswordVerifier verifier;

    @Inject
    Vertx vertx;

    private static AuthResult await(io.vertx.core.Future<AuthResult> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    @Test
    void shouldReturnTheIdentityWithRolesAndSendersForAValidPassword() throws Exception {
        AuthResult result = await(verifier.verify("demo", "demo-password"));
        assertThat(result).isInstanceOfSatisfying(AuthResult.Success.class, success -> {
            assertThat(success.identity().username()).isEqualTo("demo");
            assertThat(success.identity().email()).isEqualTo("demo@example.test");
            assertThat(success.identity().roles()).contains("smtp-relay");
            assertThat(success.identity().groups()).contains("/mail-senders");
            assertThat(success.identity().senders()).contains("@apps.example.test", "noreply@example.test");
        });
    }

    @Test
    void shouldAnswerInvalidAlikeForWrongPasswordUnknownUserAndDisabledUser() throws Exception {
        // a user of this test, not demo: Keycloak's brute-force detector (asynchronous, and touchy under parallel
        // grants) must never hold a failure against the user the other tests log in as
        String name = "wrongpw-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        var created = dev.relay.testkit.KeycloakServer.shared().admin("POST", "/users", new io.vertx.core.json.JsonObject()
                .put("username", name).put("enabled", true).put("email", name + "@example.test")
                .put("emailVerified", true).put("firstName", "Wrong").put("lastName", "Password")
                .put("credentials", new io.vertx.core.json.JsonArray().add(new io.vertx.core.json.JsonObject()
                        .put("type", "password").put("value", "right-password-" + name).put("temporary", false)))
                .encode());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(await(verifier.verify(name, "right-password-" + name))).isInstanceOf(AuthResult.Success.class);
        assertThat(await(verifier.verify(name, "wrong"))).isInstanceOf(AuthResult.Invalid.class);
        assertThat(await(verifier.verify("nobody-such", "x"))).isInstanceOf(AuthResult.Invalid.class);
        assertThat(await(verifier.verify("disabled", "disabled-password"))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldAnswerUnavailableWhenKeycloakCannotBeReached() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        KeycloakPasswordVerifier unreachable = new KeycloakPasswordVerifier(vertx,
                KeycloakSettings.at("http://127.0.0.1:" + closedPort));
        assertThat(await(unreachable.verify("demo", "demo-password"))).isInstanceOf(AuthResult.Unavailable.class);
    }
}
