package dev.relay.delivery.messaging;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.Topics;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Message;

import java.nio.charset.StandardCharsets;

/** Parses a consumed record; anything we cannot deliver from is {@link Decoded.Undecodable}, never an exception. */
final class OutboundRecordDecoder {

    sealed interface Decoded {
        record Valid(OutboundRecord record) implements Decoded {
        }

        /**
         * @param reason why the record cannot be handled
         * @param source topic-partition@offset, for the dead-letter record and the log
         */
        record Undecodable(String reason, String key, byte[] value, Headers headers, String source)
                implements Decoded {
        }
    }

    private OutboundRecordDecoder() {
    }

    @SuppressWarnings("unchecked")
    static Decoded decode(Message<byte[]> message) {
        IncomingKafkaRecordMetadata<String, byte[]> meta =
                message.getMetadata(IncomingKafkaRecordMetadata.class).orElse(null);
        Headers headers = meta == null ? new RecordHeaders() : meta.getHeaders();
        String key = meta == null ? null : meta.getKey();
        String source = meta == null ? "unknown"
                : KafkaDlqPublisher.source(meta.getTopic(), meta.getPartition(), meta.getOffset());
        return decode(key, message.getPayload(), headers, source);
    }

    /** A record read by a plain Kafka consumer (the retry tiers): the key is UTF-8 text. */
    static Decoded decode(ConsumerRecord<byte[], byte[]> record) {
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        return decode(key, record.value(), record.headers(),
                KafkaDlqPublisher.source(record.topic(), record.partition(), record.offset()));
    }

    static Decoded decode(String key, byte[] value, Headers headers, String source) {
        Header header = headers.lastHeader(Topics.ENVELOPE_HEADER);
        if (header == null || header.value() == null) {
            return new Decoded.Undecodable("missing " + Topics.ENVELOPE_HEADER + " header", key, value, headers, source);
        }
        Envelope envelope;
        try {
            envelope = EnvelopeCodec.decode(header.value());
        } catch (IllegalArgumentException e) {
            return new Decoded.Undecodable(e.getMessage(), key, value, headers, source);
        }
        if (value == null) {
            return new Decoded.Undecodable("record has no message bytes", key, null, headers, source);
        }
        if (envelope.recipients().isEmpty()) {
            return new Decoded.Undecodable("envelope has no recipients", key, value, headers, source);
        }
        return new Decoded.Valid(new OutboundRecord(key, envelope, value, headers));
    }
}
