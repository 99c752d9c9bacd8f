package dev.relay.common.suppression;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SuppressionCodecTest {

    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    @Test
    void shouldRoundTripAsReadableJson() {
        SuppressionEntry entry = new SuppressionEntry("Bob@Example.org", "550 5.1.1 <bob@example.org>: unknown",
                NOW, NOW.plusSeconds(86_400), SuppressionEntry.Source.BOUNCE);
        byte[] json = SuppressionCodec.encode(entry);
        assertThat(new String(json, StandardCharsets.UTF_8)).contains("\"address\":\"bob@example.org\"")
                .contains("\"since\":\"2026-12-03T12:00:00Z\"").contains("\"until\":\"2026-12-04T12:00:00Z\"")
                .contains("\"source\":\"bounce\"");
        assertThat(SuppressionCodec.decode(json)).isEqualTo(entry);
    }

    @Test
    void shouldRefuseWhatIsNotAnEntry() {
        for (String bad : new String[]{"", "[]", "{not json", "{\"address\":\"a@x\"}",
                "{\"address\":\"a@x\",\"since\":\"yesterday\",\"until\":\"2026-12-04T12:00:00Z\",\"source\":\"bounce\"}",
                "{\"address\":\"a@x\",\"since\":\"2026-12-03T12:00:00Z\",\"until\":\"2026-12-04T12:00:00Z\",\"source\":\"x\"}"}) {
            assertThatThrownBy(() -> SuppressionCodec.decode(bad.getBytes(StandardCharsets.UTF_8)))
                    .as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> SuppressionCodec.decode(new byte[SuppressionCodec.MAX_VALUE + 1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most");
    }

    @Test
    void shouldFollowValuesTombstonesAndSkipExpiredAndBadRecords() {
        SuppressionList list = new SuppressionList(10);
        SuppressionFollower follower = new SuppressionFollower(java.util.Map.of("bootstrap.servers", "127.0.0.1:9"),
                "t", list, Clock.fixed(NOW, ZoneOffset.UTC));
        try {
            SuppressionEntry live = new SuppressionEntry("a@x.example", "r", NOW, NOW.plusSeconds(60),
                    SuppressionEntry.Source.ADMIN);
            follower.apply("a@x.example", SuppressionCodec.encode(live), "t@0:1");
            assertThat(list.active("a@x.example", NOW)).contains(live);
            follower.apply("a@x.example", null, "t@0:2");
            assertThat(list.size()).isZero();
            SuppressionEntry expired = new SuppressionEntry("b@x.example", "r", NOW.minusSeconds(120),
                    NOW.minusSeconds(60), SuppressionEntry.Source.BOUNCE);
            follower.apply("b@x.example", SuppressionCodec.encode(expired), "t@0:3");
            follower.apply("c@x.example", "garbage".getBytes(StandardCharsets.UTF_8), "t@0:4");
            follower.apply("other@x.example", SuppressionCodec.encode(live), "t@0:5"); // key and address differ
            assertThat(list.size()).isZero();
        } finally {
            follower.close();
        }
    }
}
