package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Claims to identity for applications (ADR 0017): client id, client roles, and when a token is not an application's. */
class KeycloakClaimsTest {

    private static JsonObject serviceAccount(String clientId) {
        return new JsonObject().put("azp", clientId).put("sub", "5f3c").put("typ", "Bearer")
                .put("preferred_username", "service-account-" + clientId.toLowerCase(java.util.Locale.ROOT))
                .put("realm_access", new JsonObject().put("roles", new JsonArray().add("smtp-relay")))
                .put("resource_access", new JsonObject()
                        .put("billing", new JsonObject().put("roles", new JsonArray().add("invoices").add("bulk")))
                        .put("odd", "not an object"))
                .put("smtp_senders", new JsonArray().add("@apps.example.test"));
    }

    @Test
    void shouldNameTheClientOfAServiceAccountTokenAndSpellClientRolesWithTheirClient() {
        Identity app = KeycloakClaims.identity(serviceAccount("Demo-App"));
        assertThat(app.client()).isEqualTo("Demo-App");
        assertThat(app.isApplication()).isTrue();
        assertThat(app.roles()).containsExactly("smtp-relay", "billing:invoices", "billing:bulk");
        assertThat(app.senders()).containsExactly("@apps.example.test");
    }

    @Test
    void shouldNotTakeAPersonsTokenForAnApplication() {
        // a person an admin named like a service account, logged in through that client: the token has a session
        JsonObject person = serviceAccount("demo-app").put("sid", "a-session");
        assertThat(KeycloakClaims.identity(person).client()).isNull();
        // a person's token through some client
        JsonObject other = serviceAccount("demo-app").put("preferred_username", "demo");
        assertThat(KeycloakClaims.identity(other).client()).isNull();
        // a client_id claim that disagrees with azp
        JsonObject mismatch = serviceAccount("demo-app").put("client_id", "other-app");
        assertThat(KeycloakClaims.identity(mismatch).client()).isNull();
        JsonObject noAzp = serviceAccount("demo-app");
        noAzp.remove("azp");
        assertThat(KeycloakClaims.identity(noAzp).client()).isNull();
    }

    @Test
    void shouldGiveAPersonClientRolesToo() {
        JsonObject person = new JsonObject().put("preferred_username", "demo").put("sid", "s").put("azp", "relay-ingress")
                .put("resource_access", new JsonObject()
                        .put("account", new JsonObject().put("roles", new JsonArray().add("manage-account"))));
        Identity identity = KeycloakClaims.identity(person);
        assertThat(identity.client()).isNull();
        assertThat(identity.roles()).containsExactly("account:manage-account");
    }
}
