package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;
import dev.relay.ingress.config.IngressConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import org.jose4j.jwa.AlgorithmConstraints.ConstraintType;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.VerificationJwkSelector;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.NumericDate;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.jwx.JsonWebStructure;
import org.jose4j.lang.JoseException;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Verifies the bearer token of SASL XOAUTH2 / OAUTHBEARER (RFC 7628) locally, without asking Keycloak per token:
 * the JWS signature against the realm's JWKS, an algorithm allow-list (asymmetric only: never {@code none}, never
 * HMAC, which would let the public key serve as a shared secret), {@code iss}, {@code aud}, {@code exp},
 * {@code nbf} and {@code iat} with 30 s of clock skew, {@code typ} = {@code Bearer} (required: an ID token, which
 * also names this client as audience, is not an access token) and {@code azp} one of the configured authorized
 * parties (a token that some other client obtained, perhaps with our audience added by a mapper, was not issued
 * for mail submission). An application's own token (client-credentials grant: {@code azp} is the client and the
 * subject its service account, see {@link KeycloakClaims#applicationClient}) needs no authorized party, since no
 * other client could have obtained it, but must carry our audience and is accepted only for
 * {@code relay.ingress.keycloak.application-token-max-age} after {@code iat} (a disabled client's tokens stop
 * working by then, ADR 0017).
 *
 * <p>The JWKS is fetched with the Vert.x WebClient (nothing blocks an event loop) and cached. A token naming a key
 * the cache does not know triggers a refetch (key rotation), at most once per {@link #REFETCH_INTERVAL} so that
 * forged key ids cannot turn the ingress into a load generator against Keycloak; the cache is also refreshed after
 * {@link #MAX_KEYS_AGE} so that keys Keycloak removed stop being trusted. Concurrent fetches are coalesced.
 *
 * <p>Outcomes: {@link AuthResult.Success} with the token's identity; {@link AuthResult.Invalid} for anything wrong
 * with the token; {@link AuthResult.Unavailable} only when no keys could be had from Keycloak (down, slow beyond
 * {@code relay.ingress.keycloak.timeout}, or an unusable answer). Never logs the token.
 */
@ApplicationScoped
public class KeycloakTokenVerifier {

    private static final Logger LOG = Logger.getLogger(KeycloakTokenVerifier.class);

    static final Set<String> ALLOWED_ALGORITHMS = Set.of(AlgorithmIdentifiers.RSA_USING_SHA256,
            AlgorithmIdentifiers.RSA_USING_SHA384, AlgorithmIdentifiers.RSA_USING_SHA512,
            AlgorithmIdentifiers.RSA_PSS_USING_SHA256, AlgorithmIdentifiers.ECDSA_USING_P256_CURVE_AND_SHA256,
            AlgorithmIdentifiers.ECDSA_USING_P384_CURVE_AND_SHA384);
    static final Duration REFETCH_INTERVAL = Duration.ofSeconds(30);
    static final Duration MAX_KEYS_AGE = Duration.ofMinutes(10);
    static final int CLOCK_SKEW_SECONDS = 30;
    private static final int MAX_TOKEN_LENGTH = 16 * 1024;

    private final WebClient client;
    private final Duration timeout;
    private final String jwksUrl;
    private final String issuer;
    private final String audience;
    private final Set<String> authorizedParties;
    private final Duration applicationTokenMaxAge;
    private final Clock clock;
    private final AtomicLong fetches = new AtomicLong();

    /** Guarded by this. */
    private List<JsonWebKey> keys;
    private long keysFetchedAt;
    private long lastFetchStartedAt = Long.MIN_VALUE;
    private Future<List<JsonWebKey>> inFlight;

    @Inject
    public KeycloakTokenVerifier(Vertx vertx, IngressConfig config) {
        this(vertx, config.keycloak(), Clock.systemUTC());
    }

    KeycloakTokenVerifier(Vertx vertx, IngressConfig.Keycloak keycloak, Clock clock) {
        String realmUrl = keycloak.url().replaceAll("/+$", "") + "/realms/" + keycloak.realm();
        this.client = WebClient.create(vertx, new WebClientOptions()
                .setConnectTimeout((int) keycloak.timeout().toMillis())
                .setUserAgent("relay-ingress"));
        this.timeout = keycloak.timeout();
        this.jwksUrl = realmUrl + "/protocol/openid-connect/certs";
        this.issuer = keycloak.issuer().filter(s -> !s.isBlank()).orElse(realmUrl);
        this.audience = keycloak.audience();
        this.authorizedParties = Set.copyOf(keycloak.authorizedParties());
        this.applicationTokenMaxAge = keycloak.applicationTokenMaxAge();
        this.clock = clock;
    }

    public Future<AuthResult> verify(String accessToken) {
        JsonWebSignature jws = parse(accessToken);
        if (jws == null || !ALLOWED_ALGORITHMS.contains(jws.getAlgorithmHeaderValue())) {
            return Future.succeededFuture(new AuthResult.Invalid());
        }
        return keysFor(jws)
                .map(candidates -> check(accessToken, jws, candidates))
                .otherwise(failure -> {
                    LOG.warnf("Keycloak JWKS unavailable for token AUTH: %s", failure.toString());
                    return new AuthResult.Unavailable("jwks " + failure.getClass().getSimpleName());
                });
    }

    /** How many times the JWKS was requested (tests of the refetch limit). */
    long jwksFetches() {
        return fetches.get();
    }

    private static JsonWebSignature parse(String token) {
        if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
            return null;
        }
        try {
            return JsonWebStructure.fromCompactSerialization(token) instanceof JsonWebSignature jws ? jws : null;
        } catch (JoseException | RuntimeException e) {
            return null;
        }
    }

    /** The cached keys, refreshed first when they are too old or do not know the token's key (rate-limited). */
    private Future<List<JsonWebKey>> keysFor(JsonWebSignature jws) {
        List<JsonWebKey> cached;
        boolean stale;
        synchronized (this) {
            cached = keys;
            stale = cached != null && clock.millis() - keysFetchedAt > MAX_KEYS_AGE.toMillis();
        }
        if (cached == null) {
            return fetch(true);
        }
        if (stale) {
            // keep serving the old keys while Keycloak cannot be reached for a refresh (tried once per interval)
            return fetch(false).otherwise(failure -> cached);
        }
        if (select(jws, cached) != null) {
            return Future.succeededFuture(cached);
        }
        // a key we do not know: perhaps Keycloak rotated its keys; when it cannot be asked, we cannot tell (454)
        return fetch(false);
    }

    /** One fetch at a time; {@code force = false} refetches at most once per {@link #REFETCH_INTERVAL}. */
    private synchronized Future<List<JsonWebKey>> fetch(boolean force) {
        if (inFlight != null) {
            return inFlight;
        }
        long now = clock.millis();
        if (!force && lastFetchStartedAt != Long.MIN_VALUE && now - lastFetchStartedAt < REFETCH_INTERVAL.toMillis()) {
            return Future.succeededFuture(keys);
        }
        lastFetchStartedAt = now;
        fetches.incrementAndGet();
        Promise<List<JsonWebKey>> promise = Promise.promise();
        inFlight = promise.future();
        client.getAbs(jwksUrl).timeout(timeout.toMillis()).send()
                .map(response -> {
                    if (response.statusCode() != 200) {
                        throw new IllegalStateException("JWKS status " + response.statusCode());
                    }
                    try {
                        return List.copyOf(new JsonWebKeySet(response.bodyAsString()).getJsonWebKeys());
                    } catch (JoseException e) {
                        throw new IllegalStateException("JWKS unreadable", e);
                    }
                })
                .onComplete(result -> {
                    synchronized (this) {
                        inFlight = null;
                        if (result.succeeded()) {
                            keys = result.result();
                            keysFetchedAt = clock.millis();
                        }
                    }
                    promise.handle(result);
                });
        return promise.future();
    }

    private AuthResult check(String token, JsonWebSignature jws, List<JsonWebKey> candidates) {
        JsonWebKey key = select(jws, candidates);
        if (key == null) {
            return new AuthResult.Invalid();
        }
        long now = clock.millis();
        try {
            JwtClaims claims = new JwtConsumerBuilder()
                    .setJwsAlgorithmConstraints(ConstraintType.PERMIT, ALLOWED_ALGORITHMS.toArray(String[]::new))
                    .setVerificationKey(key.getKey())
                    .setExpectedIssuer(issuer)
                    .setExpectedAudience(audience)
                    .setRequireExpirationTime()
                    .setAllowedClockSkewInSeconds(CLOCK_SKEW_SECONDS)
                    .setEvaluationTime(NumericDate.fromMilliseconds(now))
                    .build()
                    .processToClaims(token);
            // jose4j checks exp and nbf; a token issued in the future is as suspect as one not yet valid
            NumericDate issuedAt = claims.getIssuedAt();
            if (issuedAt != null && issuedAt.getValueInMillis() > now + CLOCK_SKEW_SECONDS * 1000L) {
                return new AuthResult.Invalid();
            }
            if (!"Bearer".equals(claims.getClaimValue("typ")) || !(claims.getClaimValue("azp") instanceof String azp)) {
                return new AuthResult.Invalid();
            }
            Identity identity = KeycloakClaims.identity(new JsonObject(claims.getRawJson()));
            if (identity.username() == null) {
                return new AuthResult.Invalid();
            }
            // the session holds the identity until the token expires, then asks for AUTH again
            long validUntil = claims.getExpirationTime().getValueInMillis();
            if (identity.isApplication()) {
                // an application's own token (azp is the client, the subject its service account): no other party
                // could have obtained it for the client, so the audience check suffices; its age is bounded
                if (issuedAt == null || now - issuedAt.getValueInMillis() > applicationTokenMaxAge.toMillis()) {
                    return new AuthResult.Invalid();
                }
                validUntil = Math.min(validUntil, issuedAt.getValueInMillis() + applicationTokenMaxAge.toMillis());
            } else if (!authorizedParties.contains(azp)) {
                return new AuthResult.Invalid();
            }
            return new AuthResult.Success(identity, validUntil);
        } catch (InvalidJwtException | MalformedClaimException | RuntimeException e) {
            LOG.debugf("token refused: %s", e.getClass().getSimpleName());
            return new AuthResult.Invalid();
        }
    }

    private static JsonWebKey select(JsonWebSignature jws, List<JsonWebKey> candidates) {
        if (candidates == null) {
            return null;
        }
        try {
            return new VerificationJwkSelector().select(jws, candidates);
        } catch (JoseException e) {
            return null;
        }
    }

    @PreDestroy
    void close() {
        client.close();
    }
}
