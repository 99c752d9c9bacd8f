package dev.relay.policy.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.Comparator;

/** The API's JSON of a trace (the whole lifecycle) and of a search hit (the summary). */
public final class TraceView {

    private TraceView() {
    }

    /**
     * {@code {id, sender, recipients, status, events: [{type, at, service, ...details}]}}, events by time,
     * {@code at} as an ISO-8601 instant; when events were not kept, a last event {@code truncated} says how many.
     */
    public static ObjectNode full(Trace trace) {
        ObjectNode out = head(trace);
        ArrayNode events = out.putArray("events");
        for (JsonNode e : trace.events()) {
            ObjectNode copy = ((ObjectNode) e).deepCopy();
            copy.put("at", Instant.ofEpochMilli(e.get("at").asLong()).toString());
            events.add(copy);
        }
        if (trace.dropped() > 0) {
            events.addObject().put("type", "truncated").put("at", Instant.ofEpochMilli(trace.lastAt()).toString())
                    .put("service", "policy").put("dropped", trace.dropped())
                    .put("reason", "more events than relay.policy.trace.max-events; the status counts them all");
        }
        return out;
    }

    /** {@code {id, sender, recipients, status, at (first event), updated (latest event), events (count)}}. */
    public static ObjectNode summary(Trace trace) {
        ObjectNode out = head(trace);
        out.put("at", Instant.ofEpochMilli(trace.firstAt()).toString());
        out.put("updated", Instant.ofEpochMilli(trace.lastAt()).toString());
        out.put("events", trace.events().size() + trace.dropped());
        return out;
    }

    /** Summaries (of any instance) newest first, then by id: {@link TraceQuery#ORDER} on the JSON. */
    public static final Comparator<JsonNode> SUMMARY_ORDER = Comparator
            .comparingLong((JsonNode s) -> Instant.parse(s.path("at").asText()).toEpochMilli()).reversed()
            .thenComparing(s -> s.path("id").asText());

    /** The cursor that continues after this summary. */
    public static String cursorAfter(JsonNode summary) {
        return new TraceQuery.Cursor(Instant.parse(summary.path("at").asText()).toEpochMilli(),
                summary.path("id").asText()).encode();
    }

    private static ObjectNode head(Trace trace) {
        ObjectNode out = TraceCodec.json().createObjectNode();
        out.put("id", trace.id());
        out.put("sender", trace.sender());
        ArrayNode recipients = out.putArray("recipients");
        trace.recipients().forEach(recipients::add);
        out.put("status", trace.status());
        return out;
    }
}
