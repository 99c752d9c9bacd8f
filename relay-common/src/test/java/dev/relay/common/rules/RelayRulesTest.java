package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RelayRulesTest {

    private final RelayRules rules = RelayRules.of(List.of("example.test"), List.of("10.1.0.0/16", "::1/128"),
            List.of("smtp-relay"));
    private final MailAddress remote = new MailAddress("someone", "elsewhere.example");
    private final MailAddress local = new MailAddress("postmaster", "Example.TEST");

    private static Identity user(String... roles) {
        return new Identity("demo", "sub-1", "demo@example.test", List.of(roles), List.of(),
                List.of("@apps.example.test", "alias@example.test"));
    }

    @Test
    void shouldRefuseRelayWhenUnauthenticated() {
        assertThat(rules.decide("192.0.2.7", null, remote)).isInstanceOf(RelayDecision.Deny.class);
    }

    @Test
    void shouldRefuseRelayForIdentityWithoutRelayRole() {
        assertThat(rules.decide("192.0.2.7", user("offline_access"), remote).allowed()).isFalse();
    }

    @Test
    void shouldRelayForIdentityWithRelayRole() {
        assertThat(rules.decide("192.0.2.7", user("smtp-relay"), remote))
                .isEqualTo(new RelayDecision.Allow("relayRoles[0]"));
    }

    @Test
    void shouldRelayForTrustedNetworks() {
        assertThat(rules.decide("10.1.200.3", null, remote).rule()).startsWith("trustedNetworks[");
        assertThat(rules.decide("::1", null, remote).rule()).startsWith("trustedNetworks[");
        assertThat(rules.decide("10.2.0.1", null, remote).allowed()).isFalse();
    }

    @Test
    void shouldAcceptLocalDomainsFromAnyone() {
        assertThat(rules.decide("192.0.2.7", null, local).rule()).isEqualTo("localDomains[0]");
    }

    @Test
    void shouldBindSendersToOwnedAddresses() {
        Identity demo = user("smtp-relay");
        assertThat(SenderPolicy.owns(demo, new MailAddress("demo", "EXAMPLE.test"))).isTrue();
        assertThat(SenderPolicy.owns(demo, new MailAddress("alias", "example.test"))).isTrue();
        assertThat(SenderPolicy.owns(demo, new MailAddress("anything", "apps.example.test"))).isTrue();
        assertThat(SenderPolicy.owns(demo, new MailAddress("ceo", "example.test"))).isFalse();
        assertThat(SenderPolicy.owns(demo, new MailAddress("x", "evil.apps.example.test"))).isFalse();
    }

    @Test
    void shouldParseNetworksWithoutDns() {
        assertThat(Cidr.parse("127.0.0.0/8").contains("127.5.6.7")).isTrue();
        assertThat(Cidr.parse("127.0.0.0/8").contains("localhost")).isFalse();
        assertThat(Cidr.parse("192.168.1.0/25").contains("192.168.1.200")).isFalse();
    }
}
