package dev.relay.ingress.auth;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RelayRules;
import dev.relay.testkit.KeycloakServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Applications as Keycloak clients (issue 16, ADR 0017), against the real test Keycloak with the shipped realm:
 * AUTH PLAIN/LOGIN with a client id and secret (client-credentials grant), XOAUTH2/OAUTHBEARER with an
 * application's own token, the application's identity (client, roles, senders from its client's mapper), rotated
 * secrets, disabled clients, tokens for other audiences, and the throttle counting client failures like user
 * failures. Clients these tests change are created through the admin API under fresh names and deleted afterwards.
 */
class ApplicationKeycloakTest {

    private static final RelayRules RULES = RelayRules.of(List.of("example.test"), List.of(), List.of("smtp-relay"));
    private static final String CLIENT_ADDRESS = "192.0.2.";

    private static Vertx vertx;
    private static KeycloakSettings settings;
    private static KeycloakPasswordVerifier passwords;
    private static KeycloakTokenVerifier tokens;
    private static final List<String> created = new ArrayList<>();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        settings = KeycloakSettings.at(keycloak().url()).withTimeout(Duration.ofSeconds(20));
        passwords = new KeycloakPasswordVerifier(vertx, settings);
        tokens = new KeycloakTokenVerifier(vertx, settings, Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        created.forEach(path -> keycloak().admin("DELETE", path, null));
        passwords.close();
        tokens.close();
        vertx.close();
    }

    // ------------------------------------------------------------------------------------------ AUTH PLAIN / LOGIN

    @Test
    void shouldAuthenticateTheDemoApplicationWithItsClientIdAndSecret() throws Exception {
        AuthResult result = await(passwords.verify("demo-app", "demo-app-secret"));
        assertThat(result).isInstanceOf(AuthResult.Success.class);
        Identity app = ((AuthResult.Success) result).identity();
        assertThat(app.client()).isEqualTo("demo-app");
        assertThat(app.isApplication()).isTrue();
        assertThat(app.username()).isEqualTo("service-account-demo-app");
        assertThat(app.roles()).contains("smtp-relay");
        assertThat(app.senders()).containsExactly("@apps.example.test");
        assertThat(RULES.mayUseSender(app, new MailAddress("billing", "apps.example.test"))).isTrue();
        assertThat(RULES.mayUseSender(app, new MailAddress("demo", "example.test"))).isFalse();
    }

    @Test
    void shouldGiveAnApplicationWithoutTheRelayRoleAnIdentityWithoutIt() throws Exception {
        AuthResult result = await(passwords.verify("demo-app-norole", "demo-app-norole-secret"));
        assertThat(result).isInstanceOf(AuthResult.Success.class);
        Identity app = ((AuthResult.Success) result).identity();
        assertThat(app.client()).isEqualTo("demo-app-norole");
        assertThat(app.roles()).doesNotContain("smtp-relay");
    }

    @Test
    void shouldStillAuthenticatePeopleWithTheirPassword() throws Exception {
        AuthResult result = await(passwords.verify("demo", "demo-password"));
        assertThat(result).isInstanceOf(AuthResult.Success.class);
        Identity person = ((AuthResult.Success) result).identity();
        assertThat(person.client()).isNull();
        assertThat(person.username()).isEqualTo("demo");
    }

    @Test
    void shouldRefuseAWrongSecretAClientWithoutServiceAccountAndADisabledClient() throws Exception {
        assertThat(await(passwords.verify("demo-app", "wrong-secret"))).isInstanceOf(AuthResult.Invalid.class);
        // the ingress's own client has no service account: its secret is no login
        assertThat(await(passwords.verify("relay-ingress", "relay-ingress-dev-secret")))
                .isInstanceOf(AuthResult.Invalid.class);
        App app = application(true, "smtp-relay");
        assertThat(await(passwords.verify(app.clientId(), app.secret()))).isInstanceOf(AuthResult.Success.class);
        app.setEnabled(false);
        assertThat(await(passwords.verify(app.clientId(), app.secret()))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldStopAcceptingARotatedSecretAtTheNextCacheExpiry() throws Exception {
        App app = application(true, "smtp-relay");
        Duration ttl = Duration.ofSeconds(2);
        try (ThrottleOnKafka kafka = new ThrottleOnKafka()) {
            CredentialVerifier verifier = new CredentialVerifier(
                    kafka.throttle(new AuthThrottle.Limits(20, 5, 12), Clock.systemUTC(), List.of()),
                    new CredentialCache(ttl, Clock.systemUTC()), passwords, tokens, Duration.ofMinutes(15));
            String address = CLIENT_ADDRESS + "10";
            assertThat(await(verifier.verifyPassword(address, app.clientId(), app.secret())))
                    .isInstanceOf(AuthResult.Success.class);

            String rotated = app.rotateSecret();
            assertThat(rotated).isNotEqualTo(app.secret());
            // within the TTL the cache still vouches for the old secret (Keycloak is not asked)
            assertThat(await(verifier.verifyPassword(address, app.clientId(), app.secret())))
                    .isInstanceOf(AuthResult.Success.class);
            Thread.sleep(ttl.toMillis() + 500);
            assertThat(await(verifier.verifyPassword(address, app.clientId(), app.secret())))
                    .isInstanceOf(AuthResult.Invalid.class);
            assertThat(await(verifier.verifyPassword(address, app.clientId(), rotated)))
                    .isInstanceOf(AuthResult.Success.class);
        }
    }

    @Test
    void shouldThrottleWrongClientSecretsLikeWrongPasswords() throws Exception {
        try (ThrottleOnKafka kafka = new ThrottleOnKafka()) {
            CredentialVerifier verifier = new CredentialVerifier(
                    kafka.throttle(new AuthThrottle.Limits(20, 3, 12), Clock.systemUTC(), List.of()),
                    new CredentialCache(Duration.ofSeconds(30), Clock.systemUTC()), passwords, tokens,
                    Duration.ofMinutes(15));
            String address = CLIENT_ADDRESS + "20";
            for (int i = 0; i < 3; i++) {
                assertThat(await(verifier.verifyPassword(address, "demo-app", "wrong-" + i)))
                        .isInstanceOf(AuthResult.Invalid.class);
            }
            // the (client id, client prefix) budget is spent: even the right secret is not tried against Keycloak
            assertThat(await(verifier.verifyPassword(address, "demo-app", "demo-app-secret")))
                    .isEqualTo(new AuthResult.Unavailable(CredentialVerifier.THROTTLED));
            // another client prefix is not affected
            assertThat(await(verifier.verifyPassword(CLIENT_ADDRESS + "21", "demo-app", "demo-app-secret")))
                    .isInstanceOf(AuthResult.Success.class);
        }
    }

    // ------------------------------------------------------------------------------------- XOAUTH2 / OAUTHBEARER

    @Test
    void shouldAcceptAnApplicationsOwnClientCredentialsToken() throws Exception {
        AuthResult result = await(tokens.verify(clientCredentialsToken("demo-app", "demo-app-secret")));
        assertThat(result).isInstanceOf(AuthResult.Success.class);
        Identity app = ((AuthResult.Success) result).identity();
        assertThat(app.client()).isEqualTo("demo-app");
        assertThat(app.roles()).contains("smtp-relay");
        assertThat(app.senders()).containsExactly("@apps.example.test");
        assertThat(((AuthResult.Success) result).validUntil())
                .isLessThanOrEqualTo(System.currentTimeMillis() + Duration.ofMinutes(5).toMillis());
    }

    @Test
    void shouldRefuseAnApplicationTokenWithoutOurAudience() throws Exception {
        App app = application(false, "smtp-relay");
        String token = clientCredentialsToken(app.clientId(), app.secret());
        assertThat(KeycloakClaims.unverifiedPayload(token).getValue("aud")).isNotEqualTo("relay-ingress");
        assertThat(await(tokens.verify(token))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldStopAcceptingTheTokenOfADisabledClientAfterTheApplicationTokenMaxAge() throws Exception {
        App app = application(true, "smtp-relay");
        String token = clientCredentialsToken(app.clientId(), app.secret());
        MutableClock clock = MutableClock.now();
        KeycloakTokenVerifier bounded = new KeycloakTokenVerifier(vertx,
                settings.withApplicationTokenMaxAge(Duration.ofMinutes(1)), clock);
        try {
            assertThat(await(bounded.verify(token))).isInstanceOf(AuthResult.Success.class);
            app.setEnabled(false);
            // a disabled client gets no new token
            assertThat(clientCredentialsGrant(app.clientId(), app.secret()).statusCode()).isNotEqualTo(200);
            // its old token, still within exp (5 minutes), is refused once older than the maximum age
            clock.advance(Duration.ofSeconds(90));
            assertThat(await(bounded.verify(token))).isInstanceOf(AuthResult.Invalid.class);
        } finally {
            bounded.close();
        }
    }

    @Test
    void shouldStillRefuseAPersonsTokenThatAnotherClientObtained() throws Exception {
        App app = application(true, "smtp-relay");
        JsonObject client = new JsonObject(keycloak().admin("GET", app.path(), null).body())
                .put("directAccessGrantsEnabled", true);
        assertThat(keycloak().admin("PUT", app.path(), client.encode()).statusCode()).isEqualTo(204);
        String token = keycloak().passwordGrant(app.clientId(), app.secret(), "demo", "demo-password");
        JsonObject claims = KeycloakClaims.unverifiedPayload(token);
        assertThat(claims.getString("azp")).isEqualTo(app.clientId());
        assertThat(claims.getValue("aud").toString()).contains("relay-ingress");
        assertThat(await(tokens.verify(token))).isInstanceOf(AuthResult.Invalid.class);
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private static KeycloakServer keycloak() {
        return KeycloakServer.shared();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** A client of the test realm, as the admin API knows it. */
    private record App(String clientId, String secret, String path) {
        void setEnabled(boolean enabled) {
            JsonObject client = new JsonObject(keycloak().admin("GET", path, null).body()).put("enabled", enabled);
            HttpResponse<String> response = keycloak().admin("PUT", path, client.encode());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(204);
        }

        /** Regenerates the secret through the admin API, as an operator rotating it would; returns the new one. */
        String rotateSecret() {
            HttpResponse<String> response = keycloak().admin("POST", path + "/client-secret", null);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            return new JsonObject(response.body()).getString("value");
        }
    }

    /** A fresh confidential client with a service account holding {@code realmRole}, with or without our audience. */
    private static App application(boolean audience, String realmRole) {
        String clientId = "i1-app-" + UUID.randomUUID().toString().substring(0, 8);
        String secret = "secret-" + UUID.randomUUID();
        JsonArray mappers = new JsonArray().add(new JsonObject().put("name", "smtp senders")
                .put("protocol", "openid-connect").put("protocolMapper", "oidc-hardcoded-claim-mapper")
                .put("config", new JsonObject().put("claim.name", "smtp_senders")
                        .put("claim.value", "[\"@apps.example.test\"]").put("jsonType.label", "JSON")
                        .put("access.token.claim", "true")));
        if (audience) {
            mappers.add(new JsonObject().put("name", "audience relay-ingress").put("protocol", "openid-connect")
                    .put("protocolMapper", "oidc-audience-mapper")
                    .put("config", new JsonObject().put("included.client.audience", "relay-ingress")
                            .put("access.token.claim", "true")));
        }
        JsonObject client = new JsonObject().put("clientId", clientId).put("enabled", true)
                .put("publicClient", false).put("secret", secret).put("serviceAccountsEnabled", true)
                .put("standardFlowEnabled", false).put("directAccessGrantsEnabled", false)
                .put("protocolMappers", mappers);
        HttpResponse<String> response = keycloak().admin("POST", "/clients", client.encode());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        String location = response.headers().firstValue("Location").orElseThrow();
        String path = location.substring(location.indexOf("/clients/"));
        created.add(path);
        JsonObject serviceAccount = new JsonObject(keycloak().admin("GET", path + "/service-account-user", null).body());
        JsonObject role = new JsonObject(keycloak().admin("GET", "/roles/" + realmRole, null).body());
        HttpResponse<String> grant = keycloak().admin("POST",
                "/users/" + serviceAccount.getString("id") + "/role-mappings/realm", new JsonArray().add(role).encode());
        assertThat(grant.statusCode()).as(grant.body()).isEqualTo(204);
        return new App(clientId, secret, path);
    }

    static HttpResponse<String> clientCredentialsGrant(String clientId, String secret) throws Exception {
        String form = "grant_type=client_credentials&client_id=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8)
                + "&client_secret=" + URLEncoder.encode(secret, StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create(keycloak().tokenEndpoint()))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }

    static String clientCredentialsToken(String clientId, String secret) throws Exception {
        HttpResponse<String> response = clientCredentialsGrant(clientId, secret);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return new JsonObject(response.body()).getString("access_token");
    }
}
