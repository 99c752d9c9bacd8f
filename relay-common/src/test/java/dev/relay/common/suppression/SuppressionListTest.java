package dev.relay.common.suppression;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SuppressionListTest {

    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    private static SuppressionEntry entry(String address, Duration left) {
        return new SuppressionEntry(address, "550 5.1.1 no such user", NOW.minus(Duration.ofHours(1)),
                NOW.plus(left), SuppressionEntry.Source.BOUNCE);
    }

    @Test
    void shouldFindAnAddressCaseInsensitivelyWhileItHolds() {
        SuppressionList list = new SuppressionList(10);
        list.put(entry("Bob@Example.ORG", Duration.ofDays(1)));
        assertThat(list.active("bob@example.org", NOW)).isPresent();
        assertThat(list.active("BOB@EXAMPLE.ORG", NOW)).get().extracting(SuppressionEntry::address)
                .isEqualTo("bob@example.org");
        assertThat(list.active("bob@example.org", NOW.plus(Duration.ofDays(1)))).isEmpty();
        assertThat(list.active("", NOW)).isEmpty();
    }

    @Test
    void shouldEvictTheSoonestExpiringEntryWhenFull() {
        SuppressionList list = new SuppressionList(2);
        list.put(entry("a@x.example", Duration.ofDays(3)));
        list.put(entry("b@x.example", Duration.ofDays(1)));
        list.put(entry("c@x.example", Duration.ofDays(2)));
        assertThat(list.size()).isEqualTo(2);
        assertThat(list.evicted()).isEqualTo(1);
        assertThat(list.active("b@x.example", NOW)).isEmpty();
        assertThat(list.active("a@x.example", NOW)).isPresent();
        assertThat(list.active("c@x.example", NOW)).isPresent();
        // replacing an address does not grow the list
        list.put(entry("a@x.example", Duration.ofDays(5)));
        assertThat(list.size()).isEqualTo(2);
        assertThat(list.evicted()).isEqualTo(1);
    }

    @Test
    void shouldRemoveAndPrune() {
        SuppressionList list = new SuppressionList(10);
        list.put(entry("a@x.example", Duration.ofMinutes(1)));
        list.put(entry("b@x.example", Duration.ofDays(1)));
        assertThat(list.remove("B@x.example")).isTrue();
        assertThat(list.remove("b@x.example")).isFalse();
        assertThat(list.prune(NOW.plus(Duration.ofMinutes(2)))).isEqualTo(1);
        assertThat(list.size()).isZero();
    }

    @Test
    void shouldPageByAddressWithAFilter() {
        SuppressionList list = new SuppressionList(10);
        for (String a : new String[]{"c@x.example", "a@x.example", "b@y.example", "d@x.example"}) {
            list.put(entry(a, Duration.ofDays(1)));
        }
        list.put(new SuppressionEntry("e@x.example", "old", NOW.minus(Duration.ofDays(2)),
                NOW.minus(Duration.ofDays(1)), SuppressionEntry.Source.ADMIN));
        SuppressionList.Page first = list.page("@X.example", 0, 2, NOW);
        assertThat(first.total()).isEqualTo(3);
        assertThat(first.items()).extracting(SuppressionEntry::address).containsExactly("a@x.example", "c@x.example");
        assertThat(list.page("@x.example", 1, 2, NOW).items()).extracting(SuppressionEntry::address)
                .containsExactly("d@x.example");
        assertThat(list.page(null, 7, 2, NOW).items()).isEmpty();
    }

    @Test
    void shouldBoundTheReasonAndRefuseBadEntries() {
        SuppressionEntry e = new SuppressionEntry("a@x.example", "550 5.1.1 " + "x".repeat(2000) + "\r\nInjected: 1",
                NOW, NOW.plusSeconds(1), SuppressionEntry.Source.BOUNCE);
        assertThat(e.reason()).hasSize(SuppressionEntry.MAX_REASON).doesNotContain("\r").doesNotContain("\n");
        assertThatThrownBy(() -> new SuppressionEntry("a@x.example", "r", NOW, NOW, SuppressionEntry.Source.ADMIN))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SuppressionEntry(" ", "r", NOW, NOW.plusSeconds(1),
                SuppressionEntry.Source.ADMIN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SuppressionList(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
