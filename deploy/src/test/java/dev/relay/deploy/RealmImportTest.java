package dev.relay.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The KeycloakRealmImport files are generated from deploy/keycloak/relay-realm.json (the realm of local runs) by
 * deploy/kubernetes/generate-realm-import.py; this test fails when someone edits one without the other. It checks
 * the transformation independently of the script: the same realm, without users, with each client secret replaced
 * by a placeholder, and the demo users only in the dev patch.
 */
class RealmImportTest {

    static final Path REALM = Repository.ROOT.resolve("deploy/keycloak/relay-realm.json");
    static final Path BASE = Repository.KUBERNETES.resolve("base/keycloak/realm-import.yaml");
    static final Path DEV = Repository.KUBERNETES.resolve("overlays/dev/realm-import-demo-users.yaml");
    static final String HINT = " — run: python3 deploy/kubernetes/generate-realm-import.py";

    @Test
    void shouldMatchTheRealmOfLocalRunsWithoutUsersAndSecrets() throws Exception {
        ObjectNode realm = (ObjectNode) new ObjectMapper().readTree(REALM.toFile());
        JsonNode imported = new YAMLMapper().readTree(BASE.toFile()).path("spec").path("realm");
        ObjectNode expected = realm.deepCopy();
        ArrayNode serviceAccounts = expected.arrayNode();
        expected.get("users").forEach(u -> {
            if (u.has("serviceAccountClientId") && !u.get("serviceAccountClientId").asText().startsWith("demo-")) {
                serviceAccounts.add(u); // the roles of a client's service account: production needs them
            }
        });
        expected.remove("users");
        if (!serviceAccounts.isEmpty()) {
            expected.set("users", serviceAccounts);
        }
        expected.remove("organizations"); // the demo organisation: its member is a demo user
        expected.put("displayName", "Relay");
        ArrayNode clients = withPlaceholders((ArrayNode) expected.get("clients"));
        for (int i = clients.size() - 1; i >= 0; i--) {
            if (isDemo(clients.get(i))) {
                clients.remove(i);
            }
        }
        assertThat(imported).as("base/keycloak/realm-import.yaml" + HINT).isEqualTo(expected);
        assertThat(imported.path("clients").findValuesAsText("clientId")).as("no demo application in production")
                .noneMatch(id -> id.startsWith("demo-"));
    }

    /** Demo applications (client id {@code demo-...}) are development only, like the demo users. */
    private static boolean isDemo(JsonNode client) {
        return client.get("clientId").asText().startsWith("demo-");
    }

    /** The realm's clients with each secret replaced by the operator's placeholder. */
    private static ArrayNode withPlaceholders(ArrayNode clients) {
        for (JsonNode client : clients) {
            if (client.has("secret")) {
                ((ObjectNode) client).put("secret",
                        "${" + client.get("clientId").asText().toUpperCase().replace('-', '_') + "_CLIENT_SECRET}");
            }
        }
        return clients;
    }

    @Test
    void shouldAddExactlyTheDemoUsersInDev() throws Exception {
        JsonNode realm = new ObjectMapper().readTree(REALM.toFile());
        JsonNode patch = new YAMLMapper().readTree(DEV.toFile()).path("spec").path("realm");
        assertThat(patch.get("users")).as("overlays/dev/realm-import-demo-users.yaml" + HINT).isEqualTo(realm.get("users"));
        assertThat(patch.get("displayName")).isEqualTo(realm.get("displayName"));
        // the patch replaces the client list: all of the realm's clients, the demo applications' secrets from the
        // dev Secret like the others'
        assertThat(patch.get("clients")).as("overlays/dev/realm-import-demo-users.yaml" + HINT)
                .isEqualTo(withPlaceholders(((ArrayNode) realm.get("clients")).deepCopy()));
        assertThat(patch.get("organizations")).isEqualTo(realm.get("organizations"));
    }
}
