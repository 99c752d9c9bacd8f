package dev.relay.policy.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.relay.common.event.RelayEvent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The trace's own rules: time order, the bound, and the status derived per recipient. */
class TraceTest {

    private static ObjectNode event(String type, long at, String service, String... recipients) {
        byte[] json = new RelayEvent(type, "ID1", at, service, List.of(recipients), null, null).toJson();
        return TraceCodec.event(json).orElseThrow();
    }

    private static Trace of(int max, ObjectNode... events) {
        Trace trace = Trace.empty("ID1");
        for (ObjectNode e : events) {
            trace = trace.with(e, max);
        }
        return trace;
    }

    @Test
    void shouldSortByTimeWhateverTheArrivalOrder() {
        Trace trace = of(10, event("delivered", 30, "delivery", "a@x"), event("received", 10, "ingress", "a@x"),
                event("routed", 20, "policy", "a@x"));
        assertThat(trace.events().stream().map(e -> e.get("type").asText())).containsExactly("received", "routed",
                "delivered");
        assertThat(trace.events().get(0).has("messageId")).isFalse();
        assertThat(trace.status()).isEqualTo("delivered");
        assertThat(trace.firstAt()).isEqualTo(10);
        assertThat(trace.lastAt()).isEqualTo(30);
    }

    @Test
    void shouldDeriveTheStatusFromEveryRecipient() {
        assertThat(of(10, event("received", 1, "ingress", "a@x", "b@y")).status()).isEqualTo("received");
        assertThat(of(10, event("routed", 1, "policy", "a@x", "b@y")).status()).isEqualTo("queued");
        assertThat(of(10, event("routed", 1, "policy", "a@x", "b@y"), event("held", 2, "policy", "a@x", "b@y"))
                .status()).isEqualTo("held");
        Trace mixed = of(10, event("routed", 1, "policy", "a@x", "b@y"), event("delivered", 2, "delivery", "a@x"),
                event("deferred", 3, "delivery", "b@y"));
        assertThat(mixed.status()).isEqualTo("deferred");
        assertThat(mixed.with(event("expired", 4, "delivery", "b@y"), 10).status()).isEqualTo("partially-delivered");
        assertThat(of(10, event("routed", 1, "policy", "a@x"), event("suppressed", 2, "delivery", "a@x")).status())
                .isEqualTo("bounced");
        // refused in the session: only the accepted recipients count, unless none was accepted
        assertThat(of(10, event("rejected", 1, "ingress", "z@x"), event("delivered", 2, "delivery", "a@x")).status())
                .isEqualTo("delivered");
        assertThat(of(10, event("rejected", 1, "ingress", "z@x")).status()).isEqualTo("rejected");
        // the policy's refusal after acceptance is a bounce
        assertThat(of(10, event("rejected", 1, "policy", "z@x")).status()).isEqualTo("bounced");
        // an older event arriving late does not undo a newer state
        assertThat(of(10, event("delivered", 5, "delivery", "a@x"), event("deferred", 3, "delivery", "a@x")).status())
                .isEqualTo("delivered");
    }

    @Test
    void shouldKeepAtMostMaxEventsAndStillCountTheRestForTheStatus() {
        Trace trace = of(2, event("received", 1, "ingress", "a@x"), event("deferred", 2, "delivery", "a@x"),
                event("deferred", 3, "delivery", "a@x"), event("delivered", 4, "delivery", "a@x"));
        assertThat(trace.events()).hasSize(2);
        assertThat(trace.dropped()).isEqualTo(2);
        assertThat(trace.status()).isEqualTo("delivered");
        JsonNode view = TraceView.full(trace);
        assertThat(view.get("events")).hasSize(3);
        assertThat(view.get("events").get(2).get("type").asText()).isEqualTo("truncated");
        assertThat(view.get("events").get(2).get("dropped").asInt()).isEqualTo(2);
        assertThat(TraceCodec.decode(TraceCodec.encode(trace))).isEqualTo(trace);
    }

    @Test
    void shouldSkipWhatIsNotAnEventAndShrinkAnOversizedOne() {
        assertThat(TraceCodec.event("not json".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(TraceCodec.event("[1]".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(TraceCodec.event("{\"type\":\"x\"}".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(TraceCodec.event(null)).isEmpty();
        byte[] big = new RelayEvent("deferred", "ID1", 1, "delivery", List.of("a@x"), "x".repeat(20_000), null)
                .toJson();
        ObjectNode small = TraceCodec.event(big).orElseThrow();
        assertThat(small.has("reason")).isFalse();
        assertThat(small.get("oversized").asBoolean()).isTrue();
        assertThat(small.get("recipients").get(0).asText()).isEqualTo("a@x");
    }

    @Test
    void shouldRefuseACursorItDidNotGive() {
        TraceQuery.Cursor cursor = new TraceQuery.Cursor(1234, "ABC");
        assertThat(TraceQuery.parse(null, null, null, null, null, null, cursor.encode(), 10).cursor())
                .isEqualTo(cursor);
        for (String bad : new String[]{"!!", "QUJD", "MTIzNDpu b3Q"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> TraceQuery.parse(null, null, null, null, null,
                    null, bad, 10)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
