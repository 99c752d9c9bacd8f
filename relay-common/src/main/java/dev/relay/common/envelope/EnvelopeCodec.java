package dev.relay.common.envelope;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;

/** Envelope to and from the JSON carried in the {@code relay-envelope} record header. */
public final class EnvelopeCodec {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private EnvelopeCodec() {
    }

    public static byte[] encode(Envelope envelope) {
        try {
            return JSON.writeValueAsBytes(envelope);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @throws IllegalArgumentException when the bytes are not an envelope this version understands
     */
    public static Envelope decode(byte[] json) {
        if (json == null) {
            throw new IllegalArgumentException("missing relay-envelope header");
        }
        try {
            Envelope envelope = JSON.readValue(json, Envelope.class);
            if (envelope.version() != Envelope.VERSION || envelope.messageId() == null) {
                throw new IllegalArgumentException("unsupported envelope version " + envelope.version());
            }
            return envelope;
        } catch (IOException e) {
            throw new IllegalArgumentException("undecodable envelope: " + e.getMessage(), e);
        }
    }
}
