package dev.relay.common.kafka;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;

/**
 * What a record that cannot be decoded carries on the dead-letter topic ({@link Topics}' DLQ): its own key, value
 * and headers unchanged, plus {@value #REASON_HEADER} (why it was refused) and {@value #SOURCE_HEADER} (where it
 * was read, {@code topic-partition@offset}). One format for the policy and the delivery, so that whoever reads the
 * DLQ reads one.
 */
public final class DeadLetter {

    public static final String REASON_HEADER = "relay-dlq-reason";
    public static final String SOURCE_HEADER = "relay-dlq-source";

    private DeadLetter() {
    }

    /** {@code topic-partition@offset}. */
    public static String source(String topic, int partition, long offset) {
        return topic + "-" + partition + "@" + offset;
    }

    /** The record's own headers, then the reason and the source. */
    public static RecordHeaders headers(Header[] original, String reason, String source) {
        RecordHeaders headers = new RecordHeaders(original);
        headers.add(REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        headers.add(SOURCE_HEADER, source.getBytes(StandardCharsets.UTF_8));
        return headers;
    }
}
