package dev.relay.common.usage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.rules.Count;
import dev.relay.common.rules.Per;
import dev.relay.common.rules.Slot;
import dev.relay.common.rules.Window;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One record of the compacted usage topic: the cumulative count of one policy instance for one {@link Slot}.
 * Each instance only ever raises its own counts (a grow-only counter per instance); a reader sums the latest
 * record of every instance. The record key is {@code instance|per|window|bucket|key}, so compaction keeps the
 * latest count per instance and slot.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record UsageRecord(String instance, String per, String key, String window, long bucket, long messages,
                          long recipients) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static UsageRecord of(String instance, Slot slot, Count count) {
        return new UsageRecord(instance, slot.per().label(), slot.key(), slot.window().label(), slot.bucket(),
                count.messages(), count.recipients());
    }

    public static String recordKey(String instance, Slot slot) {
        return instance + "|" + slot.per().label() + "|" + slot.window().label() + "|" + slot.bucket() + "|"
                + slot.key();
    }

    public String recordKey() {
        return recordKey(instance, slot());
    }

    public Slot slot() {
        return new Slot(Per.of(per).orElseThrow(() -> new IllegalArgumentException("unknown per " + per)), key,
                Window.of(window), bucket);
    }

    public Count count() {
        return new Count(messages, recipients);
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @throws IllegalArgumentException when the bytes are not a usage record */
    public static UsageRecord parse(byte[] json) {
        try {
            UsageRecord r = JSON.readValue(json, UsageRecord.class);
            if (r == null || r.instance() == null || r.key() == null || r.window() == null) {
                throw new IllegalArgumentException("incomplete usage record");
            }
            r.slot();
            return r;
        } catch (IOException e) {
            throw new IllegalArgumentException("undecodable usage record: " + e.getMessage(), e);
        }
    }
}
