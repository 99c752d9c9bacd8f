package dev.relay.policy.trace;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/** The store's value format (JSON of {@link Trace}) and the reading of one event record of the events topic. */
public final class TraceCodec {

    /** An event larger than this keeps only its type, time, service and recipients in the trace. */
    static final int MAX_EVENT_BYTES = 16 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private TraceCodec() {
    }

    public static byte[] encode(Trace trace) {
        try {
            return JSON.writeValueAsBytes(trace);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Trace decode(byte[] bytes) {
        try {
            return JSON.readValue(bytes, Trace.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One record of the events topic as the trace keeps it: a JSON object with a text {@code type} and a numeric
     * {@code at}, without {@code messageId}; empty when the record is not such an event (it is skipped and counted).
     */
    static Optional<ObjectNode> event(byte[] value) {
        if (value == null) {
            return Optional.empty();
        }
        JsonNode node;
        try {
            node = JSON.readTree(value);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (!(node instanceof ObjectNode event) || !event.path("type").isTextual() || !event.path("at").isNumber()) {
            return Optional.empty();
        }
        event.remove("messageId");
        if (value.length > MAX_EVENT_BYTES) {
            ObjectNode small = JSON.createObjectNode();
            small.set("type", event.get("type"));
            small.set("at", event.get("at"));
            small.set("service", event.get("service"));
            small.set("recipients", event.get("recipients"));
            small.put("oversized", true);
            return Optional.of(small);
        }
        return Optional.of(event);
    }

    static ObjectMapper json() {
        return JSON;
    }
}
