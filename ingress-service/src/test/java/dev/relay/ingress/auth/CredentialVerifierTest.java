package dev.relay.ingress.auth;

import dev.relay.ingress.config.IngressConfig;
import dev.relay.testkit.KeycloakServer;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Throttle → cache → Keycloak, against the real Keycloak. Each test builds its own verifier around a password
 * verifier that counts the grants it sends to Keycloak (the grants themselves are real), with a fresh throttle and
 * cache configured like the application. Wrong passwords go to unknown usernames, so that Keycloak's brute-force
 * lockout never locks a demo account another test needs.
 */
@QuarkusTest
@QuarkusTestResource(RelayInfraResource.class)
class CredentialVerifierTest {

    @Inject
    CredentialVerifier injected;

    @Inject
    KeycloakTokenVerifier tokens;

    @Inject
    IngressConfig config;

    @Inject
    Vertx vertx;

    private final AtomicInteger keycloakGrants = new AtomicInteger();
    private KeycloakPasswordVerifier passwords;
    private CredentialVerifier verifier;
    private final ThrottleOnKafka kafka = new ThrottleOnKafka();
    private AuthThrottle throttle;

    @BeforeEach
    void buildVerifier() {
        passwords = new KeycloakPasswordVerifier(vertx, KeycloakSettings.at(KeycloakServer.shared().url())) {
            @Override
            public Future<AuthResult> verify(String username, String password) {
                keycloakGrants.incrementAndGet();
                return super.verify(username, password);
            }
        };
        IngressConfig.Auth auth = config.auth();
        throttle = kafka.throttle(new AuthThrottle.Limits(auth.maxFailuresPerClient(), auth.maxFailuresPerUserClient(),
                auth.maxFailuresPerUser()), java.time.Clock.systemUTC(), java.util.List.of("example.test"));
        verifier = new CredentialVerifier(throttle, new CredentialCache(config), passwords, tokens,
                auth.sessionLifetime());
    }

    @AfterEach
    void close() {
        passwords.close();
        kafka.close();
    }

    private static AuthResult await(Future<AuthResult> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private static String ingressToken() {
        return KeycloakServer.shared().passwordGrant("relay-ingress", "relay-ingress-dev-secret", "demo",
                "demo-password");
    }

    @Test
    void shouldRefuseAClientAddressAfterTooManyWrongPasswordsWithoutAskingKeycloak() throws Exception {
        int limit = config.auth().maxFailuresPerClient();
        for (int i = 0; i < limit; i++) {
            assertThat(await(verifier.verifyPassword("192.0.2.10", "no-such-user-" + i, "wrong")))
                    .isInstanceOf(AuthResult.Invalid.class);
        }
        assertThat(keycloakGrants).hasValue(limit);

        assertThat(await(verifier.verifyPassword("192.0.2.10", "demo", "demo-password")))
                .isEqualTo(new AuthResult.Unavailable(CredentialVerifier.THROTTLED));
        assertThat(keycloakGrants).as("Keycloak not asked").hasValue(limit);

        assertThat(await(verifier.verifyPassword("192.0.2.11", "demo", "demo-password")))
                .isInstanceOf(AuthResult.Success.class);
    }

    @Test
    void shouldRefuseAUsernameAfterTooManyWrongPasswordsFromAnyAddress() throws Exception {
        int limit = config.auth().maxFailuresPerUser();
        for (int i = 0; i < limit; i++) {
            assertThat(await(verifier.verifyPassword("198.51.100." + i, "ghost-user", "guess-" + i)))
                    .isInstanceOf(AuthResult.Invalid.class);
        }
        assertThat(await(verifier.verifyPassword("203.0.113.1", "Ghost-User", "one-more")))
                .isEqualTo(new AuthResult.Unavailable(CredentialVerifier.THROTTLED));
        assertThat(keycloakGrants).hasValue(limit);
    }

    /**
     * Attackers elsewhere drove demo's global ceiling up (counted here without bothering Keycloak): the owner's
     * cached correct password still gets in; a new guess is refused without asking Keycloak.
     */
    @Test
    void shouldAcceptACachedCorrectPasswordWhileOthersGuessedTheUserToItsCeiling() throws Exception {
        assertThat(await(verifier.verifyPassword("192.0.2.40", "demo", "demo-password")))
                .isInstanceOf(AuthResult.Success.class);
        for (int i = 0; i < config.auth().maxFailuresPerUser(); i++) {
            throttle.reserve("198.51.100." + (100 + i), "demo").failed();
        }
        int grants = keycloakGrants.get();
        assertThat(await(verifier.verifyPassword("192.0.2.40", "demo", "demo-password")))
                .isInstanceOf(AuthResult.Success.class);
        assertThat(await(verifier.verifyPassword("192.0.2.41", "Demo@example.test", "a-guess")))
                .isEqualTo(new AuthResult.Unavailable(CredentialVerifier.THROTTLED));
        assertThat(keycloakGrants).as("Keycloak not asked").hasValue(grants);
    }

    /** Parallel wrong passwords for one user from one client: only the per-(user, client) limit reaches Keycloak. */
    @Test
    void shouldSendOnlyTheLimitOfParallelGuessesToKeycloak() throws Exception {
        java.util.List<Future<AuthResult>> all = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            all.add(verifier.verifyPassword("192.0.2.60", "parallel-ghost", "guess-" + i));
        }
        int throttled = 0;
        for (Future<AuthResult> f : all) {
            if (new AuthResult.Unavailable(CredentialVerifier.THROTTLED).equals(await(f))) {
                throttled++;
            }
        }
        assertThat(keycloakGrants).hasValue(config.auth().maxFailuresPerUserClient());
        assertThat(throttled).isEqualTo(50 - config.auth().maxFailuresPerUserClient());
    }

    @Test
    void shouldAnswerASecondCorrectPasswordFromTheCache() throws Exception {
        AuthResult first = await(verifier.verifyPassword("192.0.2.20", "demo", "demo-password"));
        AuthResult second = await(verifier.verifyPassword("192.0.2.21", "demo", "demo-password"));
        assertThat(first).isInstanceOf(AuthResult.Success.class);
        assertThat(((AuthResult.Success) second).identity()).isEqualTo(((AuthResult.Success) first).identity());
        assertThat(keycloakGrants).as("only the first reached Keycloak").hasValue(1);
    }

    /** Twenty sessions authenticating at once: one grant, twenty successes, and no Keycloak lockout. */
    @Test
    void shouldShareOneGrantAmongConcurrentSessionsWithTheSameCredentials() throws Exception {
        java.util.List<Future<AuthResult>> all = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(verifier.verifyPassword("192.0.2." + (30 + i), "demo", "demo-password"));
        }
        for (Future<AuthResult> f : all) {
            assertThat(await(f)).isInstanceOf(AuthResult.Success.class);
        }
        assertThat(keycloakGrants).hasValue(1);
    }

    @Test
    void shouldAskKeycloakForAPasswordThatIsNotTheCachedOne() throws Exception {
        assertThat(await(verifier.verifyPassword("192.0.2.30", "relayadmin", "relayadmin-password")))
                .isInstanceOf(AuthResult.Success.class);
        assertThat(await(verifier.verifyPassword("192.0.2.30", "relayadmin", "relayadmin-passwore")))
                .isInstanceOf(AuthResult.Invalid.class);
        assertThat(keycloakGrants).hasValue(2);
    }

    @Test
    void shouldRefuseAClientAddressAfterTooManyInvalidTokens() throws Exception {
        int limit = config.auth().maxFailuresPerClient();
        for (int i = 0; i < limit; i++) {
            assertThat(await(verifier.verifyToken("192.0.2.40", "not.a-token." + i)))
                    .isInstanceOf(AuthResult.Invalid.class);
        }
        String token = ingressToken();
        assertThat(await(verifier.verifyToken("192.0.2.40", token)))
                .isEqualTo(new AuthResult.Unavailable(CredentialVerifier.THROTTLED));
        assertThat(await(verifier.verifyToken("192.0.2.41", token))).isInstanceOf(AuthResult.Success.class);
        assertThat(keycloakGrants).as("tokens never go through the password grant").hasValue(0);
    }

    @Test
    void shouldBeWiredAsTheApplicationsEntryPoint() throws Exception {
        assertThat(await(injected.verifyPassword("192.0.2.50", "demo", "demo-password")))
                .isInstanceOf(AuthResult.Success.class);
        assertThat(await(injected.verifyToken("192.0.2.50", ingressToken()))).isInstanceOf(AuthResult.Success.class);
    }
}
