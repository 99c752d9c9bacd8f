package dev.relay.ingress.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code typ} must be {@code Bearer} and {@code azp} a configured authorized party (issue 12, item 10). Keycloak
 * never issues a token without them, so these tokens are signed here with a key whose JWKS a small local HTTP
 * server publishes where the verifier looks for the realm's keys; everything else about them is valid.
 */
class TokenTypeAndPartyTest {

    private static Vertx vertx;
    private static HttpServer jwks;
    private static RsaJsonWebKey key;
    private static KeycloakTokenVerifier verifier;
    private static String issuer;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        key = RsaJwkGenerator.generateJwk(2048);
        key.setKeyId("local-test-key");
        String keys = new JsonWebKeySet(key).toJson(org.jose4j.jwk.JsonWebKey.OutputControlLevel.PUBLIC_ONLY);
        jwks = await(vertx.createHttpServer().requestHandler(request -> request.response()
                .putHeader("Content-Type", "application/json").end(keys)).listen(0, "127.0.0.1"));
        String url = "http://127.0.0.1:" + jwks.actualPort();
        issuer = url + "/realms/relay";
        verifier = new KeycloakTokenVerifier(vertx, KeycloakSettings.at(url), Clock.systemUTC());
    }

    @AfterAll
    static void stop() throws Exception {
        verifier.close();
        await(jwks.close());
        vertx.close();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private static String token(String typ, String azp) throws Exception {
        JwtClaims claims = new JwtClaims();
        Instant now = Instant.now();
        claims.setIssuer(issuer);
        claims.setAudience("relay-ingress");
        claims.setSubject("sub-1");
        claims.setIssuedAt(NumericDate.fromSeconds(now.getEpochSecond()));
        claims.setExpirationTime(NumericDate.fromSeconds(now.getEpochSecond() + 300));
        claims.setClaim("preferred_username", "demo");
        if (typ != null) {
            claims.setClaim("typ", typ);
        }
        if (azp != null) {
            claims.setClaim("azp", azp);
        }
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(key.getPrivateKey());
        jws.setKeyIdHeaderValue(key.getKeyId());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        return jws.getCompactSerialization();
    }

    @Test
    void shouldAcceptABearerTokenOfTheIngressClient() throws Exception {
        AuthResult result = await(verifier.verify(token("Bearer", "relay-ingress")));
        assertThat(result).isInstanceOf(AuthResult.Success.class);
        assertThat(((AuthResult.Success) result).validUntil()).isGreaterThan(System.currentTimeMillis());
    }

    @Test
    void shouldRefuseATokenWithoutType() throws Exception {
        assertThat(await(verifier.verify(token(null, "relay-ingress")))).isInstanceOf(AuthResult.Invalid.class);
    }

    @Test
    void shouldRefuseATokenWithoutOrWithAnotherAuthorizedParty() throws Exception {
        assertThat(await(verifier.verify(token("Bearer", null)))).isInstanceOf(AuthResult.Invalid.class);
        assertThat(await(verifier.verify(token("Bearer", "some-other-app")))).isInstanceOf(AuthResult.Invalid.class);
    }
}
