package dev.relay.policy.api;

import dev.relay.common.rules.RuleSet;
import dev.relay.policy.consume.IsolatedTopicsResource;
import dev.relay.policy.rules.RuleStore;
import dev.relay.testkit.KeycloakServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Rate limits through the admin API: a bad limit is refused with its path and changes nothing; a good one is stored. */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
class RateLimitRulesApiTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/api/rules")
    URI rules;

    @Inject
    RuleStore store;

    private static String admin() {
        return KeycloakServer.shared().browserLogin("relay-admin-cli", "relayadmin", "relayadmin-password");
    }

    private HttpResponse<String> call(String method, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(rules).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldRefuseInvalidRateLimitsNamingLimitAndFieldAndKeepTheRulesInForce() throws Exception {
        String token = admin();
        String before = call("GET", token, null).body();
        HttpResponse<String> put = call("PUT", token, """
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "rateLimits":[{"name":"ok","per":"identity","messages":{"hour":10}},
                               {"name":"bad","per":"mailbox","messages":{"minute":0}}]}""");
        assertThat(put.statusCode()).isEqualTo(400);
        assertThat(put.body()).contains("rateLimits[1].per: must be one of identity, sender-domain, client-address")
                .contains("rateLimits[1].messages.minute: must be at least 1");
        assertThat(call("GET", token, null).body()).isEqualTo(before);
    }

    @Test
    void shouldStoreValidRateLimits() throws Exception {
        String token = admin();
        RuleSet before = store.holder().current().rules().ruleSet();
        String next = """
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "rateLimits":[{"name":"api-test","per":"sender-domain","roles":["nobody-has-this"],
                                "recipients":{"day":1000}}]}""";
        try {
            assertThat(call("PUT", token, next).statusCode()).isEqualTo(200);
            assertThat(call("GET", token, null).body()).contains("\"name\":\"api-test\"")
                    .contains("\"recipients\":{\"day\":1000}");
        } finally {
            store.publish(before);
        }
    }
}
