package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The organisation claim of a token and the admin API's organisation list, as the ingress reads them. */
class OrganizationClaimsTest {

    @Test
    void shouldReadOrganisationAliasesFromTheListOrTheJsonFormOfTheClaim() {
        JsonObject list = new JsonObject().put("preferred_username", "m").put("organization", new JsonArray()
                .add("demo-team").add("other"));
        JsonObject json = new JsonObject().put("preferred_username", "m").put("organization", new JsonObject()
                .put("demo-team", new JsonObject().put("id", "x")));

        assertThat(KeycloakClaims.identity(list).organizations().keySet()).containsExactly("demo-team", "other");
        assertThat(KeycloakClaims.identity(json).organizations()).isEqualTo(Map.of("demo-team", List.of()));
        assertThat(KeycloakClaims.identity(new JsonObject().put("preferred_username", "m")).organizations()).isEmpty();
    }

    @Test
    void shouldKeepOnlyVerifiedDomainsOfEnabledOrganisations() {
        JsonArray organizations = new JsonArray()
                .add(new JsonObject().put("alias", "Demo-Team").put("enabled", true).put("domains", new JsonArray()
                        .add(new JsonObject().put("name", "Team.Example.test").put("verified", true))
                        .add(new JsonObject().put("name", "unverified.example.test").put("verified", false))
                        .add(new JsonObject().put("name", "bad domain").put("verified", true))))
                .add(new JsonObject().put("alias", "off").put("enabled", false).put("domains", new JsonArray()
                        .add(new JsonObject().put("name", "off.example.test").put("verified", true))))
                .add("not an organisation");

        Map<String, List<String>> domains = OrganizationDomains.parse(organizations, 10);

        assertThat(domains).isEqualTo(Map.of("demo-team", List.of("team.example.test")));
        Identity member = new Identity("m", "s", null, List.of(), List.of(), List.of(), null,
                Map.of("demo-team", List.of(), "off", List.of()));
        assertThat(OrganizationDomains.withDomains(member, domains).organizations())
                .isEqualTo(Map.of("demo-team", List.of("team.example.test"), "off", List.of()));
    }
}
