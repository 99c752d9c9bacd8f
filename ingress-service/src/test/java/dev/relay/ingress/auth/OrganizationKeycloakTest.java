package dev.relay.ingress.auth;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RelayRules;
import dev.relay.ingress.config.IngressConfig;
import dev.relay.testkit.DeviceLogin;
import dev.relay.testkit.KeycloakServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keycloak organisations and the device flow against the real test Keycloak with the shipped realm: the member
 * {@code team-member} of {@code demo-team} gets the organisation with its verified domain only (the realm also gives
 * it an unverified one), a person's device-flow token of the public client {@code relay-mail} is accepted for
 * XOAUTH2/OAUTHBEARER, and a member is never given an identity without its domains when they cannot be read.
 */
class OrganizationKeycloakTest {

    private static final RelayRules RULES = RelayRules.of(List.of("example.test"), List.of(), List.of("smtp-relay"));
    private static final String MEMBER = "team-member";
    private static final String MEMBER_PASSWORD = "team-member-password";

    private static Vertx vertx;
    private static KeycloakPasswordVerifier passwords;
    private static KeycloakTokenVerifier tokens;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        MailClients settings = new MailClients(KeycloakSettings.at(keycloak().url()).withTimeout(Duration.ofSeconds(20)));
        passwords = new KeycloakPasswordVerifier(vertx, settings);
        tokens = new KeycloakTokenVerifier(vertx, settings, Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        passwords.close();
        tokens.close();
        vertx.close();
    }

    private static KeycloakServer keycloak() {
        return KeycloakServer.shared();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    private static OrganizationDomains organizations(String secret) {
        return new OrganizationDomains(vertx, KeycloakSettings.at(keycloak().url()).withTimeout(Duration.ofSeconds(20)),
                new Settings(true, "relay-organizations", secret, Duration.ofMinutes(5), 1000), Clock.systemUTC());
    }

    @Test
    void shouldGiveTheMemberItsOrganisationWithTheVerifiedDomainOnly() throws Exception {
        OrganizationDomains domains = organizations("relay-organizations-dev-secret");
        try {
            AuthResult result = await(passwords.verify(MEMBER, MEMBER_PASSWORD).compose(domains::complete));

            Identity member = ((AuthResult.Success) result).identity();
            assertThat(member.organizations()).isEqualTo(Map.of("demo-team", List.of("team.example.test")));
            assertThat(member.inOrganization("demo-team")).isTrue();
            assertThat(RULES.mayUseSender(member, new MailAddress("anyone", "team.example.test"))).isTrue();
            assertThat(RULES.mayUseSender(member, new MailAddress("anyone", "unverified-team.example.test"))).isFalse();
            assertThat(RULES.mayUseSender(member, new MailAddress("anyone", "example.test"))).isFalse();

            AuthResult other = await(passwords.verify("demo", "demo-password").compose(domains::complete));
            assertThat(((AuthResult.Success) other).identity().organizations()).isEmpty();
            // one admin API read serves every AUTH until the refresh period ends
            await(passwords.verify(MEMBER, MEMBER_PASSWORD).compose(domains::complete));
            assertThat(domains.fetches()).isEqualTo(1);
        } finally {
            domains.close();
        }
    }

    @Test
    void shouldAcceptAPersonsDeviceFlowTokenWithItsOrganisation() throws Exception {
        OrganizationDomains domains = organizations("relay-organizations-dev-secret");
        try {
            String token = DeviceLogin.accessToken(keycloak(), "relay-mail", MEMBER, MEMBER_PASSWORD);

            AuthResult result = await(tokens.verify(token).compose(domains::complete));

            assertThat(result).isInstanceOf(AuthResult.Success.class);
            Identity member = ((AuthResult.Success) result).identity();
            assertThat(member.username()).isEqualTo(MEMBER);
            assertThat(member.hasRole("smtp-relay")).isTrue();
            assertThat(member.organizations()).isEqualTo(Map.of("demo-team", List.of("team.example.test")));
        } finally {
            domains.close();
        }
    }

    @Test
    void shouldAnswerTemporarilyUnavailableToAMemberWhenTheDomainsCannotBeRead() throws Exception {
        OrganizationDomains domains = organizations("not-the-secret");
        try {
            AuthResult member = await(passwords.verify(MEMBER, MEMBER_PASSWORD).compose(domains::complete));
            AuthResult other = await(passwords.verify("demo", "demo-password").compose(domains::complete));

            assertThat(member).isInstanceOf(AuthResult.Unavailable.class);
            assertThat(other).isInstanceOf(AuthResult.Success.class);
        } finally {
            domains.close();
        }
    }

    /** The organisation reader's settings, built by hand. */
    record Settings(boolean enabled, String clientId, String clientSecret, Duration refresh, int maxOrganizations)
            implements IngressConfig.Organizations {
    }

    /** The test settings with the realm's client for people's device-flow tokens among the authorized parties. */
    record MailClients(KeycloakSettings base) implements IngressConfig.Keycloak {
        @Override
        public String url() {
            return base.url();
        }

        @Override
        public String realm() {
            return base.realm();
        }

        @Override
        public String clientId() {
            return base.clientId();
        }

        @Override
        public String clientSecret() {
            return base.clientSecret();
        }

        @Override
        public Duration timeout() {
            return base.timeout();
        }

        @Override
        public Optional<String> issuer() {
            return base.issuer();
        }

        @Override
        public String audience() {
            return base.audience();
        }

        @Override
        public List<String> authorizedParties() {
            return List.of("relay-ingress", "relay-mail");
        }

        @Override
        public Duration applicationTokenMaxAge() {
            return base.applicationTokenMaxAge();
        }
    }
}
