package dev.relay.delivery.suppression;

import dev.relay.common.suppression.SuppressionCodec;
import dev.relay.common.suppression.SuppressionEntry;
import dev.relay.delivery.kafka.KafkaAckedSend;
import dev.relay.delivery.outcome.RecipientResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Writes the suppression entries a delivery attempt's hard bounces call for (channel {@code suppression-out},
 * acks=all, idempotent) as part of the record's outcome: the record is committed only after they are acknowledged,
 * like its events and its DSN (docs/adr/0015). A failed write fails the outcome, so the record stays uncommitted
 * and is delivered again: a duplicate is possible, a loss is not.
 */
@ApplicationScoped
public class SuppressionWriter {

    @Inject
    @Channel("suppression-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> records;

    private final Suppressions suppressions;

    public SuppressionWriter(Suppressions suppressions) {
        this.suppressions = suppressions;
    }

    /** Completes when Kafka acknowledged every entry due (at once when none is), fails when one was not. */
    public CompletionStage<Void> record(List<RecipientResult> results) {
        List<SuppressionEntry> entries = suppressions.entriesFor(results);
        if (entries.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (SuppressionEntry entry : entries) {
            acks.add(KafkaAckedSend.send(records, suppressions.topic(), entry.address(),
                    SuppressionCodec.encode(entry), null).thenRun(() -> suppressions.added(entry))
                    .toCompletableFuture());
        }
        return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new));
    }
}
