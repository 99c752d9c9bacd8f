package dev.relay.common.suppression;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The JSON value of a suppression record: {@code {"address":..,"reason":..,"since":"2026-12-03T15:00:00Z",
 * "until":..,"source":"bounce"}} (times in ISO-8601 UTC, readable with any Kafka tool). Decoding is strict and
 * bounded: a value larger than {@link #MAX_VALUE} bytes, a missing field or a bad time is refused with a
 * message (the follower logs it and skips the record).
 */
public final class SuppressionCodec {

    /** No valid entry comes near this: address 254 + reason 512 characters (UTF-8: at most 4 bytes each). */
    public static final int MAX_VALUE = 8192;

    private static final ObjectMapper JSON = new ObjectMapper();

    private SuppressionCodec() {
    }

    public static byte[] encode(SuppressionEntry entry) {
        ObjectNode node = JSON.createObjectNode();
        node.put("address", entry.address());
        node.put("reason", entry.reason());
        node.put("since", entry.since().toString());
        node.put("until", entry.until().toString());
        node.put("source", entry.source().value());
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @throws IllegalArgumentException when the value is not a valid entry */
    public static SuppressionEntry decode(byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("no value (a tombstone is not an entry)");
        }
        if (value.length > MAX_VALUE) {
            throw new IllegalArgumentException("suppression value of " + value.length + " bytes, at most "
                    + MAX_VALUE);
        }
        JsonNode node;
        try {
            node = JSON.readTree(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return new SuppressionEntry(text(node, "address"), node.path("reason").asText(""),
                time(node, "since"), time(node, "until"), SuppressionEntry.Source.of(text(node, "source")));
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("missing " + field);
        }
        return v.asText();
    }

    private static Instant time(JsonNode node, String field) {
        try {
            return Instant.parse(text(node, field));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(field + " is not an ISO-8601 instant");
        }
    }
}
