package dev.relay.delivery.mx;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class MxPlanTest {

    private final Random random = new Random(1);

    @Test
    void shouldOrderExchangersByPreference() {
        MxPlan plan = MxPlan.of("example.org",
                List.of(Mx.of(20, "mx2.example.org."), Mx.of(5, "mx0.example.org."), Mx.of(10, "mx1.example.org")),
                random);

        assertThat(plan).isEqualTo(new MxPlan.Exchangers(List.of("mx0.example.org", "mx1.example.org",
                "mx2.example.org")));
    }

    @Test
    void shouldUseDomainItselfWhenThereIsNoMx() {
        assertThat(MxPlan.of("example.org", List.of(), random)).isEqualTo(new MxPlan.Implicit("example.org"));
    }

    @Test
    void shouldRecogniseNullMx() {
        assertThat(MxPlan.of("example.org", List.of(Mx.of(0, ".")), random)).isInstanceOf(MxPlan.NullMx.class);
        assertThat(MxPlan.of("example.org", List.of(Mx.of(0, "")), random)).isInstanceOf(MxPlan.NullMx.class);
    }

    @Test
    void shouldKeepEveryHostOfEqualPreference() {
        MxPlan plan = MxPlan.of("example.org", List.of(Mx.of(10, "a."), Mx.of(10, "b."), Mx.of(20, "c.")), random);

        assertThat(((MxPlan.Exchangers) plan).hosts()).hasSize(3).endsWith("c")
                .containsExactlyInAnyOrder("a", "b", "c");
    }

    @Test
    void shouldSeeALoopWhenWeAreAmongTheMostPreferredHosts() {
        dev.relay.delivery.transport.OwnName self = new dev.relay.delivery.transport.OwnName("Relay.Example.ORG.");

        assertThat(MxPlan.of("example.org", List.of(Mx.of(10, "relay.example.org."), Mx.of(20, "b.example.org")),
                random, self)).isEqualTo(new MxPlan.LoopsBack("relay.example.org"));
        assertThat(MxPlan.of("example.org", List.of(Mx.of(10, "a.example.org"), Mx.of(10, "RELAY.example.org")),
                random, self)).isInstanceOf(MxPlan.LoopsBack.class);
        assertThat(MxPlan.of("relay.example.org", List.of(), random, self)).isInstanceOf(MxPlan.LoopsBack.class);
    }

    @Test
    void shouldKeepOnlyTheBetterHostsWhenWeAreABackupMx() {
        dev.relay.delivery.transport.OwnName self = new dev.relay.delivery.transport.OwnName("relay.example.org");

        assertThat(MxPlan.of("example.org", List.of(Mx.of(30, "c.example.org"), Mx.of(20, "relay.example.org"),
                Mx.of(10, "a.example.org")), random, self))
                .isEqualTo(new MxPlan.Exchangers(List.of("a.example.org")));
        assertThat(MxPlan.of("example.org", List.of(Mx.of(10, "a.example.org")), random, self))
                .isEqualTo(new MxPlan.Exchangers(List.of("a.example.org")));
    }
}
