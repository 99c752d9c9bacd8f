package dev.relay.common.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * JSON of {@link QueueCommand} and {@link DestinationHold}. Decoding refuses what the constructors refuse, so a
 * worker never acts on a half-valid command: a record it cannot decode is logged and skipped by the caller.
 */
public final class ControlCodec {

    /** The largest record value decoded; commands and holds are a few hundred bytes. */
    public static final int MAX_BYTES = 4096;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ControlCodec() {
    }

    public static byte[] encode(Object commandOrHold) {
        try {
            return JSON.writeValueAsBytes(commandOrHold);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static QueueCommand command(byte[] value) {
        return decode(value, QueueCommand.class);
    }

    public static DestinationHold hold(byte[] value) {
        return decode(value, DestinationHold.class);
    }

    private static <T> T decode(byte[] value, Class<T> type) {
        if (value == null || value.length == 0 || value.length > MAX_BYTES) {
            throw new IllegalArgumentException("a control record has 1 to " + MAX_BYTES + " bytes");
        }
        try {
            return JSON.readValue(value, type);
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException || e.getCause() instanceof
                    NullPointerException ? e.getCause() : e;
            throw new IllegalArgumentException("not a valid " + type.getSimpleName() + ": " + cause.getMessage());
        }
    }
}
