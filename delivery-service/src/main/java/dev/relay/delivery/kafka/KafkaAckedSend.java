package dev.relay.delivery.kafka;

import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import org.apache.kafka.common.header.Headers;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.Metadata;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Sends one Kafka record through an emitter and completes when the broker acknowledged it (acks=all), or fails
 * when it did not. Callers acknowledge their input only after this completes: that is guarantee 1 of
 * docs/architecture.md.
 */
public final class KafkaAckedSend {

    private KafkaAckedSend() {
    }

    public static CompletionStage<Void> send(Emitter<byte[]> emitter, String key, byte[] value, Headers headers) {
        return send(emitter, null, key, value, headers);
    }

    /** @param topic overrides the channel's topic for this record; null keeps it */
    public static CompletionStage<Void> send(Emitter<byte[]> emitter, String topic, String key, byte[] value,
                                             Headers headers) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        OutgoingKafkaRecordMetadata.OutgoingKafkaRecordMetadataBuilder<String> meta =
                OutgoingKafkaRecordMetadata.<String>builder().withKey(key);
        if (topic != null) {
            meta.withTopic(topic);
        }
        if (headers != null) {
            meta.withHeaders(headers);
        }
        Message<byte[]> message = Message.of(value, Metadata.of(meta.build()),
                () -> {
                    acked.complete(null);
                    return CompletableFuture.completedFuture(null);
                },
                failure -> {
                    acked.completeExceptionally(failure);
                    return CompletableFuture.completedFuture(null);
                });
        try {
            emitter.send(message);
        } catch (RuntimeException e) {
            acked.completeExceptionally(e);
        }
        return acked;
    }
}
