package dev.relay.ingress.auth;

import io.vertx.core.Future;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * The one entry point of the SMTP session for AUTH: throttle, then cache, then Keycloak, then record the outcome.
 *
 * <ol>
 * <li>{@link AuthThrottle#check}: a client (or client and username) with too many recent failures gets
 * {@link AuthResult.Unavailable} ("throttled", 454 4.7.0) and Keycloak is not asked.</li>
 * <li>{@link CredentialCache} (passwords only): a recent identical success is answered from memory, also while
 * the username's global ceiling is reached by others' guesses ({@link AuthThrottle.Verdict#CACHED_ONLY}); then an
 * uncached password is refused with 454 and counted against its client.</li>
 * <li>{@link AuthThrottle#reserve} counts the attempt as a failure before Keycloak is asked (so parallel guesses
 * cannot all pass the check), then {@link KeycloakPasswordVerifier} or {@link KeycloakTokenVerifier}.</li>
 * <li>{@link AuthResult.Invalid} keeps the count; a success or {@link AuthResult.Unavailable} (the client did
 * nothing wrong) takes it back; a password success is cached.</li>
 * </ol>
 *
 * <p>Keycloak 26 answers a user its brute-force detector locked with the same {@code invalid_grant} "Invalid user
 * credentials" as a wrong password, so a lock cannot be told apart here: it counts as a failure and is answered
 * 535 like any wrong password (older answers naming the lock are 454, see {@link KeycloakPasswordVerifier}). The
 * throttle's limits keep attackers from causing that lock through the relay.
 */
@ApplicationScoped
public class CredentialVerifier {

    static final String THROTTLED = "throttled";

    private final AuthThrottle throttle;
    private final CredentialCache cache;
    private final KeycloakPasswordVerifier passwords;
    private final KeycloakTokenVerifier tokens;
    private final OrganizationDomains organizations;
    private final java.time.Duration sessionLifetime;
    private final java.util.concurrent.ConcurrentHashMap<String, Future<AuthResult>> inFlight =
            new java.util.concurrent.ConcurrentHashMap<>();

    @Inject
    public CredentialVerifier(AuthThrottle throttle, CredentialCache cache, KeycloakPasswordVerifier passwords,
                              KeycloakTokenVerifier tokens, OrganizationDomains organizations,
                              dev.relay.ingress.config.IngressConfig config) {
        this(throttle, cache, passwords, tokens, organizations, config.auth().sessionLifetime());
    }

    /** Without organisation domains (identities keep their organisations' aliases only). */
    CredentialVerifier(AuthThrottle throttle, CredentialCache cache, KeycloakPasswordVerifier passwords,
                       KeycloakTokenVerifier tokens, java.time.Duration sessionLifetime) {
        this(throttle, cache, passwords, tokens, null, sessionLifetime);
    }

    CredentialVerifier(AuthThrottle throttle, CredentialCache cache, KeycloakPasswordVerifier passwords,
                       KeycloakTokenVerifier tokens, OrganizationDomains organizations,
                       java.time.Duration sessionLifetime) {
        this.organizations = organizations;
        this.sessionLifetime = sessionLifetime;
        this.throttle = throttle;
        this.cache = cache;
        this.passwords = passwords;
        this.tokens = tokens;
    }

    /** AUTH PLAIN / LOGIN. */
    public Future<AuthResult> verifyPassword(String clientAddress, String username, String password) {
        AuthThrottle.Verdict verdict = throttle.check(clientAddress, username);
        if (verdict == AuthThrottle.Verdict.THROTTLED) {
            return Future.succeededFuture(new AuthResult.Unavailable(THROTTLED));
        }
        var cached = cache.lookup(username, password);
        if (cached.isPresent()) {
            return Future.succeededFuture(new AuthResult.Success(cached.get(), passwordValidUntil()));
        }
        // One password grant per distinct credential at a time: sessions that authenticate as the same user with
        // the same password while a grant is in flight share its answer (and its one throttle count). Concurrent
        // grants for one user make Keycloak's brute-force detector lock the account even when every password is
        // right (seen with 20 parallel sessions: 2 granted, 18 "temporarily disabled").
        String key = cache.key(username, password);
        Future<AuthResult> shared = key == null ? null : inFlight.get(key);
        if (shared != null) {
            return shared.map(this::withSessionLifetime);
        }
        AuthThrottle.Attempt attempt = verdict == AuthThrottle.Verdict.ALLOWED
                ? throttle.reserve(clientAddress, username) : null;
        if (attempt == null) {
            throttle.refusedUncached(clientAddress, username);
            return Future.succeededFuture(new AuthResult.Unavailable(THROTTLED));
        }
        // map, not onSuccess: the outcome is recorded before the caller sees it
        Future<AuthResult> grant = passwords.verify(username, password).compose(this::withOrganizations).map(result -> {
            resolve(attempt, result);
            if (result instanceof AuthResult.Success success) {
                cache.store(username, password, success.identity());
            }
            return result;
        });
        if (key != null) {
            inFlight.put(key, grant);
            grant.onComplete(done -> inFlight.remove(key, grant));
        }
        return grant.map(this::withSessionLifetime);
    }

    /** A success from the cache or a shared grant, valid for this session's lifetime from now. */
    private AuthResult withSessionLifetime(AuthResult result) {
        return result instanceof AuthResult.Success success
                ? new AuthResult.Success(success.identity(), passwordValidUntil()) : result;
    }

    /** A password AUTH holds for the configured session lifetime; then the session must AUTH again. */
    private long passwordValidUntil() {
        return System.currentTimeMillis() + sessionLifetime.toMillis();
    }

    private static void resolve(AuthThrottle.Attempt attempt, AuthResult result) {
        if (result instanceof AuthResult.Success) {
            attempt.succeeded();
        } else if (result instanceof AuthResult.Invalid) {
            attempt.failed();
        } else {
            attempt.cancelled();
        }
    }

    /** AUTH XOAUTH2 / OAUTHBEARER: the user is unknown until the token is verified, so only the client is counted. */
    public Future<AuthResult> verifyToken(String clientAddress, String accessToken) {
        AuthThrottle.Attempt attempt = throttle.reserve(clientAddress, null);
        if (attempt == null) {
            return Future.succeededFuture(new AuthResult.Unavailable(THROTTLED));
        }
        return tokens.verify(accessToken).compose(this::withOrganizations).map(result -> {
            resolve(attempt, result);
            return result;
        });
    }

    /** The verified domains of the identity's organisations (a success of Keycloak's, before it is cached). */
    private Future<AuthResult> withOrganizations(AuthResult result) {
        return organizations == null ? Future.succeededFuture(result) : organizations.complete(result);
    }
}
