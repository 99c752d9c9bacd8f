package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;
import dev.relay.common.net.Cidr;
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
    void shouldAcceptOnlyPostmasterInALocalDomainWithoutRecipientSource() {
        assertThat(rules.decide("192.0.2.7", null, new MailAddress("PostMaster", "example.test")).allowed()).isTrue();
        assertThat(rules.decide("192.0.2.7", null, new MailAddress("someone", "example.test")))
                .isEqualTo(new RelayDecision.Deny(RelayRules.UNKNOWN_RECIPIENT, "no such user here",
                        RelayDecision.Refusal.UNKNOWN_RECIPIENT));
        assertThat(rules.decide("10.1.200.3", user("smtp-relay"), new MailAddress("someone", "example.test"))
                .rule()).isEqualTo(RelayRules.UNKNOWN_RECIPIENT);
    }

    @Test
    void shouldBuildTheSeedRecipientSourcesFromTheConfiguredLists() {
        RelayRules seeded = RelayRules.of(List.of("example.test", "legacy.example.test"), List.of(), List.of(),
                RuleSet.LocalRecipients.seed(List.of("alice@example.test", "Bob@Example.Test"),
                        List.of("legacy.example.test")));
        assertThat(seeded.decide("192.0.2.7", null, new MailAddress("bob", "example.test")).rule())
                .isEqualTo("localRecipients[0].mailboxes[1]");
        assertThat(seeded.decide("192.0.2.7", null, new MailAddress("carol", "example.test")).rule())
                .isEqualTo(RelayRules.UNKNOWN_RECIPIENT);
        assertThat(seeded.decide("192.0.2.7", null, new MailAddress("anyone", "legacy.example.test")).rule())
                .isEqualTo("localRecipients[1].catchAll");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RelayRules.of(List.of("example.test"), List.of(),
                        List.of(), RuleSet.LocalRecipients.seed(List.of("x@elsewhere.example"), List.of())))
                .isInstanceOf(RuleSetException.class).hasMessageContaining("elsewhere.example is not in localDomains");
    }

    @Test
    void shouldKnowTrustedClients() {
        assertThat(rules.trusts("10.1.2.3")).isTrue();
        assertThat(rules.trusts("::1")).isTrue();
        assertThat(rules.trusts("192.0.2.7")).isFalse();
        assertThat(rules.trusts(null)).isFalse();
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
