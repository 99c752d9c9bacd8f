package dev.relay.ingress.auth;

import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import jakarta.inject.Inject;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.PublicJsonWebKey;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.jwx.JsonWebStructure;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Against the real Keycloak with the relay realm: real tokens, real JWKS; forged tokens are built here. */
@QuarkusTest
@QuarkusTestResource(RelayInfraResource.class)
class KeycloakTokenVerifierTest {

    private static final String INGRESS = "relay-ingress";
    private static final String INGRESS_SECRET = "relay-ingress-dev-secret";

    @Inject
    KeycloakTokenVerifier verifier;

    @Inject
    Vertx vertx;

    private final List<KeycloakTokenVerifier> built = new ArrayList<>();

    @AfterEach
    void closeBuiltVerifiers() {
        built.forEach(KeycloakTokenVerifier::close);
    }

    private static KeycloakServer keycloak() {
        return KeycloakServer.shared();
    }

    private static String ingressToken() {
        return keycloak().passwordGrant(INGRESS, INGRESS_SECRET, "demo", "demo-password");
    }

    private KeycloakTokenVerifier verifierWith(KeycloakSettings settings, Clock clock) {
        KeycloakTokenVerifier v = new KeycloakTokenVerifier(vertx, settings, clock);
        built.add(v);
        return v;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private static String part(String token, int index) {
        return token.split("\\.", -1)[index];
    }

    private static JsonObject decoded(String part) {
        return new JsonObject(new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8));
    }

    private static String encoded(JsonObject json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
    }

    private static String kid(String token) throws Exception {
        return JsonWebStructure.fromCompactSerialization(token).getKeyIdHeaderValue();
    }

    /** RS256 over {@code claims} with a key Keycloak never saw, under {@code kid}. */
    private static String signedByUnknownKey(JwtClaims claims, String kid) throws Exception {
        RsaJsonWebKey key = RsaJwkGenerator.generateJwk(2048);
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(key.getPrivateKey());
        jws.setKeyIdHeaderValue(kid);
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        return jws.getCompactSerialization();
    }

    private static JwtClaims demoClaims(Instant issuedAt, Instant expires) {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(keycloak().realmUrl());
        claims.setAudience(INGRESS);
        claims.setSubject("6c64605b-0000-0000-0000-000000000000");
        claims.setIssuedAt(NumericDate.fromSeconds(issuedAt.getEpochSecond()));
        claims.setExpirationTime(NumericDate.fromSeconds(expires.getEpochSecond()));
        claims.setClaim("typ", "Bearer");
        claims.setClaim("preferred_username", "demo");
        claims.setClaim("realm_access", java.util.Map.of("roles", List.of("smtp-relay")));
        return claims;
    }

    @Test
    void shouldAcceptATokenOfTheIngressClientWithItsIdentity() throws Exception {
        AuthResult result = await(verifier.verify(ingressToken()));
        assertThat(result).isInstanceOfSatisfying(AuthResult.Success.class, success -> {
            assertThat(success.identity().username()).isEqualTo("demo");
            assertThat(success.identity().email()).isEqualTo("demo@example.test");
            assertThat(success.identity().roles()).contains("smtp-relay");
            assertThat(success.identity().groups()).contains("/mail-senders");
            assertThat(success.identity().senders()).contains("@apps.example.test");
        });
    }

    @Test
    void shouldRejectATokenIssuedForAnotherAudience() throws Exception {
        String policyToken = keycloak().browserLogin("relay-admin-cli", "demo", "demo-password");
        assertThat(await(verifier.verify(policyToken))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectAnIdTokenAlthoughItNamesTheIngressAsAudience() throws Exception {
        String form = "grant_type=password&client_id=" + INGRESS + "&client_secret=" + INGRESS_SECRET
                + "&username=demo&password=demo-password&scope=openid";
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(keycloak().tokenEndpoint()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        String idToken = new JsonObject(response.body()).getString("id_token");
        assertThat(decoded(part(idToken, 1)).getString("typ")).isEqualTo("ID");
        assertThat(await(verifier.verify(idToken))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectATokenWithAnAlteredSignature() throws Exception {
        String token = ingressToken();
        String signature = part(token, 2);
        int middle = signature.length() / 2; // not the last character: its low bits may be padding
        char flipped = signature.charAt(middle) == 'A' ? 'B' : 'A';
        String tampered = part(token, 0) + "." + part(token, 1) + "."
                + signature.substring(0, middle) + flipped + signature.substring(middle + 1);
        assertThat(await(verifier.verify(tampered))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectATokenWithAnAlteredPayload() throws Exception {
        String token = ingressToken();
        JsonObject claims = decoded(part(token, 1));
        claims.put("preferred_username", "relayadmin");
        claims.put("realm_access", new JsonObject().put("roles", new JsonArray().add("smtp-relay").add("relay-admin")));
        String tampered = part(token, 0) + "." + encoded(claims) + "." + part(token, 2);
        assertThat(await(verifier.verify(tampered))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectAnExpiredTokenSignedByAnUnknownKey() throws Exception {
        Instant now = Instant.now();
        String forged = signedByUnknownKey(demoClaims(now.minusSeconds(900), now.minusSeconds(600)), "unknown-key");
        assertThat(await(verifier.verify(forged))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectACurrentTokenSignedByAnotherKeyUnderKeycloaksKeyId() throws Exception {
        Instant now = Instant.now();
        String forged = signedByUnknownKey(demoClaims(now, now.plusSeconds(300)), kid(ingressToken()));
        assertThat(await(verifier.verify(forged))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectAnUnsignedToken() throws Exception {
        String token = ingressToken();
        JsonObject header = new JsonObject().put("alg", "none").put("typ", "JWT").put("kid", kid(token));
        assertThat(await(verifier.verify(encoded(header) + "." + part(token, 1) + ".")))
                .isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectAnHmacTokenKeyedWithKeycloaksPublicKey() throws Exception {
        // the classic algorithm confusion: HS256 with the published RSA key as the shared secret
        String token = ingressToken();
        HttpResponse<String> certs = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                keycloak().realmUrl() + "/protocol/openid-connect/certs")).build(), HttpResponse.BodyHandlers.ofString());
        JsonWebKey published = new JsonWebKeySet(certs.body()).findJsonWebKey(kid(token), null, null, null);
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(new String(Base64.getUrlDecoder().decode(part(token, 1)), StandardCharsets.UTF_8));
        jws.setKey(new HmacKey(((PublicJsonWebKey) published).getPublicKey().getEncoded()));
        jws.setKeyIdHeaderValue(kid(token));
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA256);
        assertThat(await(verifier.verify(jws.getCompactSerialization()))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectMalformedTokens() throws Exception {
        for (String token : List.of("", "not-a-token", "a.b.c", "a.b", "..", ingressToken() + "x.y")) {
            assertThat(await(verifier.verify(token))).as(token.length() > 20 ? "token + junk" : token)
                    .isInstanceOf(AuthResult.Invalid.class);
        }
        assertThat(await(verifier.verify(null))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRejectARealTokenOnceExpiredBeyondTheSkew() throws Exception {
        String token = ingressToken();
        long exp = decoded(part(token, 1)).getLong("exp");
        MutableClock later = new MutableClock(Instant.ofEpochSecond(exp).plusSeconds(31));
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at(keycloak().url()), later);
        assertThat(await(v.verify(token))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldAcceptARealTokenJustExpiredWithinTheSkew() throws Exception {
        String token = ingressToken();
        long exp = decoded(part(token, 1)).getLong("exp");
        MutableClock later = new MutableClock(Instant.ofEpochSecond(exp).plusSeconds(20));
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at(keycloak().url()), later);
        assertThat(await(v.verify(token))).isInstanceOf(AuthResult.Success.class);
    }

    @Test
    void shouldRejectARealTokenIssuedInTheFutureBeyondTheSkew() throws Exception {
        String token = ingressToken();
        long iat = decoded(part(token, 1)).getLong("iat");
        MutableClock earlier = new MutableClock(Instant.ofEpochSecond(iat).minusSeconds(45));
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at(keycloak().url()), earlier);
        assertThat(await(v.verify(token))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldAcceptARealTokenIssuedInTheFutureWithinTheSkew() throws Exception {
        String token = ingressToken();
        long iat = decoded(part(token, 1)).getLong("iat");
        MutableClock earlier = new MutableClock(Instant.ofEpochSecond(iat).minusSeconds(20));
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at(keycloak().url()), earlier);
        assertThat(await(v.verify(token))).isInstanceOf(AuthResult.Success.class);
    }

    @Test
    void shouldRejectATokenOfAnotherIssuer() throws Exception {
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at(keycloak().url())
                .withIssuer("https://sso.example.test/realms/relay"), Clock.systemUTC());
        assertThat(await(v.verify(ingressToken()))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldAcceptATokenOfTheExplicitlyConfiguredIssuer() throws Exception {
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at(keycloak().url())
                .withIssuer(keycloak().realmUrl()), Clock.systemUTC());
        assertThat(await(v.verify(ingressToken()))).isInstanceOf(AuthResult.Success.class);
    }

    @Test
    void shouldAnswerUnavailableWhenKeycloakCannotBeReached() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at("http://127.0.0.1:" + closedPort)
                .withIssuer(keycloak().realmUrl()), Clock.systemUTC());
        assertThat(await(v.verify(ingressToken()))).isInstanceOf(AuthResult.Unavailable.class);
    }

    @Test
    void shouldAnswerUnavailableWhenKeycloakDoesNotAnswerInTime() throws Exception {
        NetServer silent = await(vertx.createNetServer().connectHandler(socket -> { }).listen(0, "127.0.0.1"));
        try {
            KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at("http://127.0.0.1:" + silent.actualPort())
                    .withIssuer(keycloak().realmUrl()).withTimeout(Duration.ofMillis(500)), Clock.systemUTC());
            assertThat(await(v.verify(ingressToken()))).isInstanceOf(AuthResult.Unavailable.class);
        } finally {
            await(silent.close());
        }
    }

    @Test
    void shouldRefetchTheKeysForAnUnknownKeyIdAtMostOncePerInterval() throws Exception {
        MutableClock clock = MutableClock.now();
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at(keycloak().url()), clock);
        Instant now = Instant.now();
        String forgedA = signedByUnknownKey(demoClaims(now, now.plusSeconds(300)), "rotated-a");
        String forgedB = signedByUnknownKey(demoClaims(now, now.plusSeconds(300)), "rotated-b");

        assertThat(await(v.verify(ingressToken()))).isInstanceOf(AuthResult.Success.class);
        assertThat(v.jwksFetches()).isEqualTo(1);
        assertThat(await(v.verify(forgedA))).isInstanceOf(AuthResult.Invalid.class);
        assertThat(v.jwksFetches()).as("within 30 s of the first fetch").isEqualTo(1);

        clock.advance(KeycloakTokenVerifier.REFETCH_INTERVAL.plusSeconds(1));
        assertThat(await(v.verify(forgedA))).isInstanceOf(AuthResult.Invalid.class);
        assertThat(await(v.verify(forgedB))).isInstanceOf(AuthResult.Invalid.class);
        assertThat(await(v.verify(ingressToken()))).isInstanceOf(AuthResult.Success.class);
        assertThat(v.jwksFetches()).as("one refetch for two unknown key ids").isEqualTo(2);
    }

    @Test
    void shouldRefreshKeysOlderThanTheirMaximumAge() throws Exception {
        MutableClock clock = MutableClock.now();
        KeycloakTokenVerifier v = verifierWith(KeycloakSettings.at(keycloak().url()), clock);
        await(v.verify(ingressToken()));
        clock.advance(KeycloakTokenVerifier.MAX_KEYS_AGE.plusSeconds(1));
        await(v.verify(ingressToken())); // expired by this clock by now; only the fetch matters here
        assertThat(v.jwksFetches()).isEqualTo(2);
    }
}
