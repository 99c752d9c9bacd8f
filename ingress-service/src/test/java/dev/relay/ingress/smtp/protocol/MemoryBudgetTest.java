package dev.relay.ingress.smtp.protocol;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MemoryBudgetTest {

    @Test
    void shouldStopOneClientAtItsShareWhileOthersStillReserve() {
        MemoryBudget budget = new MemoryBudget(1000, 300);
        MemoryAccount hog = budget.forClient("192.0.2.1");
        MemoryAccount other = budget.forClient("198.51.100.7");
        assertThat(hog.tryReserve(200)).isTrue();
        assertThat(hog.tryReserve(200)).as("beyond its share").isFalse();
        assertThat(hog.exhausted()).isFalse();
        assertThat(hog.tryReserve(100)).isTrue();
        assertThat(hog.exhausted()).as("at its share").isTrue();
        assertThat(other.exhausted()).isFalse();
        assertThat(other.tryReserve(300)).isTrue();
        assertThat(budget.used()).isEqualTo(600);
        assertThat(budget.usedBy("192.0.2.1")).isEqualTo(300);
    }

    @Test
    void shouldCountSessionsOfOneClientTogether() {
        MemoryBudget budget = new MemoryBudget(1000, 300);
        MemoryAccount first = budget.forClient("192.0.2.1");
        MemoryAccount second = budget.forClient("192.0.2.1");
        assertThat(first.tryReserve(250)).isTrue();
        assertThat(second.tryReserve(100)).as("the same client's second session").isFalse();
        assertThat(second.exhausted()).isFalse();
        assertThat(second.tryReserve(50)).isTrue();
        assertThat(second.exhausted()).isTrue();
    }

    @Test
    void shouldRefuseAClientWhenTheWholeBudgetIsFullEvenBelowItsShare() {
        MemoryBudget budget = new MemoryBudget(500, 300);
        assertThat(budget.forClient("a").tryReserve(300)).isTrue();
        assertThat(budget.forClient("b").tryReserve(200)).isTrue();
        MemoryAccount third = budget.forClient("c");
        assertThat(third.exhausted()).isTrue();
        assertThat(third.tryReserve(1)).isFalse();
        assertThat(budget.usedBy("c")).isZero();
        assertThat(budget.clients()).isEqualTo(2);
    }

    @Test
    void shouldForgetAClientOnceItHoldsNothing() {
        MemoryBudget budget = new MemoryBudget(1000, 300);
        MemoryAccount client = budget.forClient("192.0.2.1");
        for (int i = 0; i < 10_000; i++) {
            assertThat(client.tryReserve(64)).isTrue();
            client.release(64);
        }
        assertThat(budget.clients()).as("no entry left behind").isZero();
        assertThat(budget.used()).isZero();
    }

    @Test
    void shouldBeTheWholeBudgetWhenTheShareIsNotSmaller() {
        MemoryBudget budget = new MemoryBudget(1000);
        assertThat(budget.forClient("192.0.2.1")).isSameAs(budget);
    }
}
