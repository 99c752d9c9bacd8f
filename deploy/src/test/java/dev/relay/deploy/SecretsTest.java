package dev.relay.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** No secret value is committed, except clearly marked dev-only placeholders in the dev overlay. */
class SecretsTest {

    static final String DEV_PLACEHOLDER = "dev-only-";
    static final Pattern SECRET_NAME = Pattern.compile("(?i).*(SECRET|PASSWORD|JAAS|TOKEN|CREDENTIAL).*");

    static List<String> overlays() {
        return ManifestStructureTest.overlays();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldCommitNoSecretValueExceptDevPlaceholders(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        for (Secret secret : r.all(Secret.class)) {
            assertThat(overlay).as("Secret %s with values outside the dev overlay", secret.getMetadata().getName())
                    .isEqualTo("dev");
            Map<String, String> values = new HashMap<>();
            if (secret.getStringData() != null) {
                values.putAll(secret.getStringData());
            }
            if (secret.getData() != null) {
                secret.getData().forEach((k, v) -> values.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
            }
            values.forEach((key, value) -> assertThat(value)
                    .as("%s/%s must be a dev-only placeholder", secret.getMetadata().getName(), key).startsWith(DEV_PLACEHOLDER));
        }
        for (Deployment d : r.all(Deployment.class)) {
            for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
                for (EnvVar env : c.getEnv()) {
                    if (SECRET_NAME.matcher(env.getName()).matches()) {
                        assertThat(env.getValue()).as("%s %s must come from a Secret", d.getMetadata().getName(), env.getName()).isNull();
                        assertThat(env.getValueFrom().getSecretKeyRef()).as(env.getName()).isNotNull();
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldTakeKeycloakClientSecretsFromSecretsAndDemoUsersOnlyInDev(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        GenericKubernetesResource realmImport = r.generic("KeycloakRealmImport").get(0);
        List<Map<String, Object>> clients = realmImport.get("spec", "realm", "clients");
        Map<String, Map<String, Map<String, String>>> placeholders = realmImport.get("spec", "placeholders");
        for (Map<String, Object> client : clients) {
            Object secret = client.get("secret");
            if (secret == null) {
                continue;
            }
            assertThat((String) secret).as("client %s", client.get("clientId")).matches("\\$\\{[A-Z_]+}");
            String name = ((String) secret).substring(2, ((String) secret).length() - 1);
            assertThat(placeholders).containsKey(name);
            assertThat(placeholders.get(name).get("secret")).containsEntry("name", "relay-keycloak-clients")
                    .containsEntry("key", (String) client.get("clientId"));
        }
        GenericKubernetesResource keycloak = r.generic("Keycloak").get(0);
        assertThat(realmImport.<String>get("spec", "keycloakCRName")).isEqualTo(keycloak.getMetadata().getName());
        assertThat(keycloak.<Number>get("spec", "instances").intValue()).isPositive();
        assertThat(keycloak.<Boolean>get("spec", "http", "httpEnabled")).isTrue();
        if (r.isProduction()) {
            assertThat(keycloak.<Number>get("spec", "instances").intValue()).isGreaterThanOrEqualTo(2);
            assertThat(keycloak.<String>get("spec", "db", "passwordSecret", "name")).isEqualTo("relay-keycloak-db");
        }
        List<Object> users = realmImport.get("spec", "realm", "users");
        if (r.isProduction()) {
            // service accounts only (they hold their clients' roles), no people
            assertThat(users == null ? List.of() : users).as("no demo users in production")
                    .allSatisfy(u -> assertThat(((Map<?, ?>) u).containsKey("serviceAccountClientId")).isTrue());
            assertThat(realmImport.<Object>get("spec", "realm", "organizations")).as("no demo organisation").isNull();
        } else {
            assertThat(users).isNotEmpty();
        }
    }
}
