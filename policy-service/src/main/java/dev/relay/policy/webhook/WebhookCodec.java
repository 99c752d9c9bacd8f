package dev.relay.policy.webhook;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** JSON of the three webhook topics' values, and the event types a subscription may name. */
public final class WebhookCodec {

    /** The types of {@link dev.relay.common.event.RelayEvent}. */
    public static final List<String> EVENT_TYPES = List.of("received", "rejected", "routed", "deferred", "delivered",
            "bounced", "expired", "suppressed");

    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private WebhookCodec() {
    }

    public static byte[] encode(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes a value; a record that cannot be read answers {@code null} (and is skipped by its reader). */
    public static <T> T decode(byte[] value, Class<T> type) {
        try {
            return value == null ? null : JSON.readValue(value, type);
        } catch (IOException e) {
            return null;
        }
    }
}
