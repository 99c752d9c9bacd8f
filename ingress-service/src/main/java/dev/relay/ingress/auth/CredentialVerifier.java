package dev.relay.ingress.auth;

import dev.relay.ingress.smtp.session.AuthResult;
import io.vertx.core.Future;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * The one entry point of the SMTP session for AUTH: throttle, then cache, then Keycloak, then record the outcome.
 *
 * <ol>
 * <li>{@link AuthThrottle}: a client address or username with too many recent failures gets
 * {@link AuthResult.Unavailable} ("throttled", 454 4.7.0) and Keycloak is not asked.</li>
 * <li>{@link CredentialCache} (passwords only): a recent identical success is answered from memory.</li>
 * <li>{@link KeycloakPasswordVerifier} or {@link KeycloakTokenVerifier}.</li>
 * <li>{@link AuthResult.Invalid} counts as a failure; a success clears the username's count (and a password
 * success is cached); {@link AuthResult.Unavailable} counts as nothing, since the client did nothing wrong.</li>
 * </ol>
 */
@ApplicationScoped
public class CredentialVerifier {

    static final String THROTTLED = "throttled";

    private final AuthThrottle throttle;
    private final CredentialCache cache;
    private final KeycloakPasswordVerifier passwords;
    private final KeycloakTokenVerifier tokens;
    private final java.util.concurrent.ConcurrentHashMap<String, Future<AuthResult>> inFlight =
            new java.util.concurrent.ConcurrentHashMap<>();

    @Inject
    public CredentialVerifier(AuthThrottle throttle, CredentialCache cache, KeycloakPasswordVerifier passwords,
                              KeycloakTokenVerifier tokens) {
        this.throttle = throttle;
        this.cache = cache;
        this.passwords = passwords;
        this.tokens = tokens;
    }

    /** AUTH PLAIN / LOGIN. */
    public Future<AuthResult> verifyPassword(String clientAddress, String username, String password) {
        if (!throttle.allowed(clientAddress, username)) {
            return Future.succeededFuture(new AuthResult.Unavailable(THROTTLED));
        }
        var cached = cache.lookup(username, password);
        if (cached.isPresent()) {
            throttle.succeeded(clientAddress, username);
            return Future.succeededFuture(new AuthResult.Success(cached.get()));
        }
        // map, not onSuccess: the outcome is recorded before the caller sees it
        return grant(username, password).map(result -> {
            if (result instanceof AuthResult.Success success) {
                cache.store(username, password, success.identity());
                throttle.succeeded(clientAddress, username);
            } else if (result instanceof AuthResult.Invalid) {
                throttle.failed(clientAddress, username);
            }
            return result;
        });
    }

    /**
     * One password grant per distinct credential at a time: sessions that authenticate as the same user with
     * the same password while a grant is in flight share its answer. Concurrent grants for one user make
     * Keycloak's brute-force detector lock the account even when every password is right (seen here with 20
     * parallel sessions: 2 granted, 18 "temporarily disabled").
     */
    private Future<AuthResult> grant(String username, String password) {
        String key = cache.key(username, password);
        if (key == null) {
            return passwords.verify(username, password);
        }
        Future<AuthResult> shared = inFlight.computeIfAbsent(key, k -> passwords.verify(username, password));
        shared.onComplete(done -> inFlight.remove(key, shared));
        return shared;
    }

    /** AUTH XOAUTH2 / OAUTHBEARER: the user is unknown until the token is verified, so only the client is counted. */
    public Future<AuthResult> verifyToken(String clientAddress, String accessToken) {
        if (!throttle.allowed(clientAddress, "")) {
            return Future.succeededFuture(new AuthResult.Unavailable(THROTTLED));
        }
        return tokens.verify(accessToken).map(result -> {
            if (result instanceof AuthResult.Success success) {
                throttle.succeeded(clientAddress, success.identity().username());
            } else if (result instanceof AuthResult.Invalid) {
                throttle.failed(clientAddress, "");
            }
            return result;
        });
    }
}
