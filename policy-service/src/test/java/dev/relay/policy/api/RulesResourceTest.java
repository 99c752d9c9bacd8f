package dev.relay.policy.api;

import dev.relay.policy.consume.IsolatedTopicsResource;
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
        return KeycloakServer.shared().browserLogin("relay-admin-cli", user, password);
    }

    private static String admin() {
        return token("relayadmin", "relayadmin-password");
    }

    private HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        return call(method, path, token, body, null);
    }

    private HttpResponse<String> call(String method, String path, String token, String body, String ifMatch)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(rules + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (ifMatch != null) {
            request.header("If-Match", ifMatch);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static final String RULES_A = """
            {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
             "recipients":{"deny":["@a.example"]}}""";
    private static final String RULES_B = """
            {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
             "recipients":{"deny":["@b.example"]}}""";

    @Test
    void shouldAnswer401WithoutToken() throws Exception {
        assertThat(call("GET", "", null, null).statusCode()).isEqualTo(401);
    }

    @Test
    void shouldAnswer401WithoutTokenOnEveryEndpoint() throws Exception {
        assertThat(call("PUT", "", null, RULES_A).statusCode()).isEqualTo(401);
        assertThat(call("POST", "/validate", null, RULES_A).statusCode()).isEqualTo(401);
        assertThat(call("POST", "/dry-run", null, "{}").statusCode()).isEqualTo(401);
        assertThat(call("GET", "", "not-a-token", null).statusCode()).isEqualTo(401);
    }

    @Test
    void shouldAnswer403ForAnIdentityWithoutRelayAdmin() throws Exception {
        String before = call("GET", "", admin(), null).body();
        for (String user : new String[] {"demo", "norelay"}) {
            String token = token(user, user + "-password");
            assertThat(call("GET", "", token, null).statusCode()).as(user).isEqualTo(403);
            assertThat(call("PUT", "", token, RULES_A).statusCode()).as(user).isEqualTo(403);
            assertThat(call("POST", "/validate", token, RULES_A).statusCode()).as(user).isEqualTo(403);
            assertThat(call("POST", "/dry-run", token, "{}").statusCode()).as(user).isEqualTo(403);
        }
        assertThat(call("GET", "", admin(), null).body()).isEqualTo(before);
    }

    @Test
    void shouldKeepHealthAndMetricsOpen() throws Exception {
        URI root = URI.create(rules.toString().replace("/api/rules", ""));
        for (String path : new String[] {"/q/health/live", "/q/health/ready", "/q/metrics"}) {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(root.resolve(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(path).isEqualTo(200);
        }
    }

    @Test
    void shouldExposeTheRevisionInForceAsGauge() throws Exception {
        String token = admin();
        call("PUT", "", token, RULES_A);
        String revision = call("GET", "", token, null).headers().firstValue("ETag").orElseThrow().replace("\"", "");
        URI metrics = URI.create(rules.toString().replace("/api/rules", "/q/metrics"));
        String scrape = HTTP.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(scrape).containsPattern("(?m)^relay_rules_revision(\\{[^}]*})? " + revision + "\\.0$");
    }

    @Test
    void shouldAnswerTheRevisionAsETag() throws Exception {
        HttpResponse<String> response = call("GET", "", admin(), null);
        String revision = response.body().replaceAll("^\\{\"revision\":(-?\\d+).*$", "$1");
        assertThat(response.headers().firstValue("ETag")).hasValue("\"" + revision + "\"");
    }

    @Test
    void shouldReplaceOnlyTheRevisionNamedInIfMatch() throws Exception {
        String token = admin();
        String etag = call("GET", "", token, null).headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> first = call("PUT", "", token, RULES_A, etag);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("Warning")).isEmpty();
        String next = first.headers().firstValue("ETag").orElseThrow();
        assertThat(next).isNotEqualTo(etag);

        // a second admin who read the old revision: refused, nothing changes
        String inForce = call("GET", "", token, null).body();
        HttpResponse<String> stale = call("PUT", "", token, RULES_B, etag);
        assertThat(stale.statusCode()).isEqualTo(412);
        assertThat(stale.body()).contains("the rules changed: If-Match names revision " + etag.replace("\"", ""))
                .contains("revision " + next.replace("\"", "") + " is in force");
        assertThat(stale.headers().firstValue("ETag")).hasValue(next);
        assertThat(call("GET", "", token, null).body()).isEqualTo(inForce).contains("a.example")
                .doesNotContain("b.example");

        // with the current ETag it goes through
        assertThat(call("PUT", "", token, RULES_B, next).statusCode()).isEqualTo(200);
        assertThat(call("GET", "", token, null).body()).contains("b.example");
    }

    @Test
    void shouldAcceptAReplaceWithoutIfMatchWithAWarning() throws Exception {
        HttpResponse<String> put = call("PUT", "", admin(), RULES_A);
        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(put.headers().firstValue("Warning")).hasValueSatisfying(w -> assertThat(w)
                .startsWith("299 relay-policy \"no If-Match: replaced revision"));
        assertThat(call("PUT", "", admin(), RULES_B, "*").headers().firstValue("Warning")).isPresent();
    }

    @Test
    void shouldRefuseAMalformedIfMatchAndChangeNothing() throws Exception {
        String token = admin();
        String before = call("GET", "", token, null).body();
        for (String bad : new String[] {"\"abc\"", "W/\"1\"", "\"1\", \"2\""}) {
            HttpResponse<String> put = call("PUT", "", token, before.contains("a.example") ? RULES_B : RULES_A, bad);
            assertThat(put.statusCode()).as(bad).isEqualTo(400);
            assertThat(put.body()).as(bad).contains("If-Match");
        }
        assertThat(call("GET", "", token, null).body()).isEqualTo(before);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{1}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "{\"version\":1,\"grants\":[{\"role\":\"r\",\"group\":\"/g\"}]}   | grants[0].group: a grant names exactly one role or one group",
            "{\"version\":1,\"trustedNetworks\":[\"10.0.0.0/8\",\"::/0\"]}         | trustedNetworks[1]: a /0 network would make Relay an open relay",
            "{\"version\":1,\"headers\":[{\"strip\":[\"X-A\"]},{\"strip\":[\"Received\"]}]} | headers[1].strip[0]: Received must not be stripped",
            "{\"version\":1,\"headers\":[{\"add\":[{\"name\":\"X-A\",\"value\":\"v\\r\\nBcc: x@example.org\"}]}]} | headers[0].add[0].value: only printable ASCII",
            "{\"version\":1,\"recipients\":{\"deny\":[\"@bad_domain\"]}}        | recipients.deny[0]: not a domain",
            "{\"version\":1,\"routes\":[{\"domain\":\"a.example\",\"nextHop\":\"h:1\",\"tls\":\"sometimes\"}]} | routes[0].tls: must be one of",
            "{\"version\":1,\"routes\":[{\"domain\":\"a.example\",\"nexthop\":\"h:1\"}]} | routes[0].nexthop",
            "{\"version\":2}                                                  | version: must be 1",
            "not json                                                          | not JSON",
    })
    void shouldRefuseEachInvalidRuleSetNamingRuleAndFieldAndChangeNothing(String body, String problem)
            throws Exception {
        String token = admin();
        HttpResponse<String> before = call("GET", "", token, null);
        HttpResponse<String> put = call("PUT", "", token, body, before.headers().firstValue("ETag").orElseThrow());
        assertThat(put.statusCode()).isEqualTo(400);
        assertThat(put.body()).contains(problem);
        assertThat(call("POST", "/validate", token, body).body()).contains(problem);
        HttpResponse<String> after = call("GET", "", token, null);
        assertThat(after.body()).isEqualTo(before.body());
        assertThat(after.headers().firstValue("ETag")).isEqualTo(before.headers().firstValue("ETag"));
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

        // a member of a Keycloak organisation sends as its verified domains, and not as others
        String member = """
                {"clientAddress":"192.0.2.1","mailFrom":"%s",
                 "identity":{"username":"team-member","roles":["smtp-relay"],
                             "organizations":{"demo-team":["team.example.test"]}},
                 "recipients":["c@elsewhere.example"]}""";
        assertThat(call("POST", "/dry-run", token, member.formatted("x@team.example.test")).body())
                .contains("\"rule\":\"relayRoles[0]\"");
        assertThat(call("POST", "/dry-run", token, member.formatted("x@other.example.test")).body())
                .contains("\"rule\":\"sender-not-owned\"");
    }
}
