package dev.relay.policy.route;

import dev.relay.common.rules.Count;
import dev.relay.common.rules.Per;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Window;
import dev.relay.common.usage.UsageCounter;
import dev.relay.common.usage.UsageFollower;
import dev.relay.testkit.KafkaBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Cluster-wide counting on the real broker: two policy instances (two counter/follower pairs with different
 * instance ids) see each other's counts, and after a restart a new follower replays the topic and still sees
 * the old instance's counts while the new instance counts from zero.
 */
class UsageCountingTest {

    private final String topic = "usage-test-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<AutoCloseable> open = new ArrayList<>();
    private final Instant now = Instant.now();
    private final Slot demoMinute = new Slot(Per.IDENTITY, "demo", Window.MINUTE, Window.MINUTE.bucket(now));
    private final Slot demoDay = new Slot(Per.IDENTITY, "demo", Window.DAY, Window.DAY.bucket(now));

    private Map<String, Object> kafka() {
        KafkaBroker broker = KafkaBroker.shared();
        broker.createUsageTopic(topic);
        return Map.of("bootstrap.servers", broker.bootstrapServers());
    }

    private <T extends AutoCloseable> T open(T closeable) {
        open.add(closeable);
        return closeable;
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    @Test
    void shouldSumTheCountsOfEveryInstanceAndKeepThemAcrossARestart() throws Exception {
        Map<String, Object> kafka = kafka();
        Clock clock = Clock.systemUTC();
        UsageCounter a = open(new UsageCounter(kafka, topic, clock, "instance-a"));
        UsageCounter b = open(new UsageCounter(kafka, topic, clock, "instance-b"));
        UsageFollower followsA = open(new UsageFollower(kafka, topic, "instance-a", clock).start());
        UsageFollower followsB = open(new UsageFollower(kafka, topic, "instance-b", clock).start());

        a.add(Set.of(demoMinute, demoDay), new Count(1, 3));
        a.add(Set.of(demoMinute, demoDay), new Count(1, 1));
        b.add(Set.of(demoMinute), new Count(1, 2));
        a.publish(Set.of(demoMinute, demoDay)).toCompletableFuture().get();
        b.publish(Set.of(demoMinute)).toCompletableFuture().get();

        // each instance: its own exact count plus the other's as followed
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(a.plus(followsA).used(demoMinute)).isEqualTo(new Count(3, 6));
            assertThat(b.plus(followsB).used(demoMinute)).isEqualTo(new Count(3, 6));
            assertThat(b.plus(followsB).used(demoDay)).isEqualTo(new Count(2, 4));
        });
        // a follower never counts its own instance's records twice
        assertThat(followsA.used(demoMinute)).isEqualTo(new Count(1, 2));

        // instance a restarts: new id, counts from zero; a fresh follower replays the old counts of both
        a.close();
        open.remove(a);
        UsageCounter restarted = open(new UsageCounter(kafka, topic, clock));
        UsageFollower replayed = open(new UsageFollower(kafka, topic, restarted.instance(), clock).start());
        assertThat(replayed.awaitCaughtUp(Duration.ofSeconds(20))).isTrue();
        assertThat(restarted.used(demoMinute)).isEqualTo(Count.ZERO);
        assertThat(restarted.plus(replayed).used(demoMinute)).isEqualTo(new Count(3, 6));

        restarted.add(Set.of(demoMinute), new Count(1, 1));
        restarted.publish(Set.of(demoMinute)).toCompletableFuture().get();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(b.plus(followsB).used(demoMinute)).isEqualTo(new Count(4, 7)));
    }

    @Test
    void shouldNotCountOtherKeysOrWindows() throws Exception {
        Map<String, Object> kafka = kafka();
        Clock clock = Clock.systemUTC();
        UsageCounter a = open(new UsageCounter(kafka, topic, clock, "instance-a"));
        UsageFollower all = open(new UsageFollower(kafka, topic, null, clock).start());
        Slot other = new Slot(Per.IDENTITY, "other", Window.MINUTE, demoMinute.bucket());
        Slot lastMinute = new Slot(Per.IDENTITY, "demo", Window.MINUTE, demoMinute.bucket() - 1);
        a.add(Set.of(other, lastMinute), new Count(5, 5));
        a.add(Set.of(demoMinute), new Count(1, 1));
        a.publish(Set.of(other, lastMinute, demoMinute)).toCompletableFuture().get();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(all.used(demoMinute)).isEqualTo(new Count(1, 1)));
        assertThat(all.used(other)).isEqualTo(new Count(5, 5));
    }
}
