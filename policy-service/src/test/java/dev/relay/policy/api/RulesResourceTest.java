package dev.relay.policy.api;

import dev.relay.policy.messaging.IsolatedTopicsResource;
import dev.relay.testkit.KeycloakServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin API against the real Keycloak (tokens by password grant) and the real Kafka rules topic. */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
class RulesResourceTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/api/rules")
    URI rules;

    private static String token(String user, String password) {
        return KeycloakServer.shared().passwordGrant("relay-policy", "relay-policy-dev-secret", user, password);
    }

    private static String admin() {
        return token("relayadmin", "relayadmin-password");
    }

    private HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(rules + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAnswer401WithoutToken() throws Exception {
        assertThat(call("GET", "", null, null).statusCode()).isEqualTo(401);
    }

    @Test
    void shouldAnswer403ForAnIdentityWithoutRelayAdmin() throws Exception {
        String demo = token("demo", "demo-password");
        assertThat(call("GET", "", demo, null).statusCode()).isEqualTo(403);
        assertThat(call("PUT", "", demo, "{\"version\":1}").statusCode()).isEqualTo(403);
    }

    @Test
    void shouldServeTheCurrentRulesToRelayAdmin() throws Exception {
        HttpResponse<String> response = call("GET", "", admin(), null);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"revision\"").contains("\"localDomains\":[\"example.test\"]");
    }

    @Test
    void shouldRefuseInvalidRulesNamingRuleAndFieldAndKeepTheOldOnes() throws Exception {
        String token = admin();
        String before = call("GET", "", token, null).body();
        String invalid = """
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "routes":[{"domain":"partner.example","nextHop":"mx.partner.example:70000","tls":"required"}]}""";
        HttpResponse<String> put = call("PUT", "", token, invalid);
        assertThat(put.statusCode()).isEqualTo(400);
        assertThat(put.body()).contains("routes[0].nextHop: port must be 1..65535");
        assertThat(call("GET", "", token, null).body()).isEqualTo(before);

        HttpResponse<String> validate = call("POST", "/validate", token, invalid);
        assertThat(validate.statusCode()).isEqualTo(400);
        assertThat(validate.body()).contains("routes[0].nextHop");
        assertThat(call("PUT", "", token, "{\"version\":1,\"localDomain\":[]}").body())
                .contains("localDomain");
        assertThat(call("GET", "", token, null).body()).isEqualTo(before);
    }

    @Test
    void shouldStoreValidRulesAndDecideWithThem() throws Exception {
        String token = admin();
        String next = """
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "recipients":{"deny":["@denied.example"]},
                 "routes":[{"domain":"partner.example","nextHop":"mx.partner.example:2525","tls":"verify"}]}""";
        assertThat(call("POST", "/validate", token, next).statusCode()).isEqualTo(200);
        HttpResponse<String> put = call("PUT", "", token, next);
        assertThat(put.statusCode()).isEqualTo(200);
        String revision = put.body().replaceAll("\\D", "");
        assertThat(call("GET", "", token, null).body()).contains("\"revision\":" + revision)
                .contains("denied.example");

        HttpResponse<String> dryRun = call("POST", "/dry-run", token, """
                {"clientAddress":"192.0.2.1","mailFrom":"demo@example.test",
                 "identity":{"username":"demo","email":"demo@example.test","roles":["smtp-relay"]},
                 "recipients":["a@denied.example","b@partner.example","c@elsewhere.example","user%x@example.test"]}""");
        assertThat(dryRun.statusCode()).isEqualTo(200);
        assertThat(dryRun.body())
                .contains("{\"recipient\":\"a@denied.example\",\"verdict\":\"deny\",\"rule\":\"recipients.deny[0]\"")
                .contains("{\"recipient\":\"b@partner.example\",\"verdict\":\"allow\",\"rule\":\"relayRoles[0]\"")
                .contains("static:mx.partner.example:2525")
                .contains("{\"recipient\":\"c@elsewhere.example\",\"verdict\":\"allow\",\"rule\":\"relayRoles[0]\"")
                .contains("{\"recipient\":\"user%x@example.test\",\"verdict\":\"deny\",\"rule\":\"address-syntax\"");

        HttpResponse<String> anonymous = call("POST", "/dry-run", token, """
                {"clientAddress":"192.0.2.1","mailFrom":"","recipients":["c@elsewhere.example"]}""");
        assertThat(anonymous.body()).contains("\"rule\":\"default-deny\"");
    }
}
