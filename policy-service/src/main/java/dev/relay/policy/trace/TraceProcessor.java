package dev.relay.policy.trace;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Adds each event of the events topic to its message's trace in the store (key = message id, as every producer
 * keys its events), and removes the traces whose latest event is older than the retention, every purge interval
 * (wall-clock punctuation; each removal is a tombstone in the changelog, so restored stores forget them too).
 * Events already older than the retention when they arrive (a replay of the topic) are not taken in.
 */
final class TraceProcessor implements Processor<String, byte[], Void, Void> {

    private static final Logger LOG = Logger.getLogger(TraceProcessor.class);

    private final TraceSettingsView settings;
    private final MeterRegistry metrics;
    private KeyValueStore<String, byte[]> store;

    TraceProcessor(TraceSettingsView settings, MeterRegistry metrics) {
        this.settings = settings;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(TraceTopology.STORE);
        context.schedule(settings.purgeInterval(), PunctuationType.WALL_CLOCK_TIME, this::purge);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        Optional<ObjectNode> parsed = TraceCodec.event(record.value());
        if (parsed.isEmpty()) {
            count("malformed");
            return;
        }
        ObjectNode event = parsed.get();
        String id = record.key();
        if (id == null || !TraceIds.valid(id)) {
            count("malformed");
            return;
        }
        long at = event.get("at").asLong();
        if (at < System.currentTimeMillis() - settings.retention().toMillis()) {
            count("expired");
            return;
        }
        byte[] old = store.get(id);
        Trace trace = old == null ? Trace.empty(id) : TraceCodec.decode(old);
        Trace updated = trace.with(event, settings.maxEvents());
        store.put(id, TraceCodec.encode(updated));
        count(updated.dropped() > trace.dropped() ? "truncated" : "stored");
    }

    private void purge(long now) {
        long oldest = now - settings.retention().toMillis();
        List<String> expired = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<String, byte[]> entry = all.next();
                if (TraceCodec.decode(entry.value).lastAt() < oldest) {
                    expired.add(entry.key);
                }
            }
        }
        expired.forEach(store::delete);
        if (!expired.isEmpty()) {
            LOG.debugf("removed %d traces older than %s", expired.size(), settings.retention());
            metrics.counter("relay.policy.trace.purged").increment(expired.size());
        }
    }

    private void count(String result) {
        metrics.counter("relay.policy.trace.events", "result", result).increment();
    }

    /** The settings the processor needs (a view, so that tests and the topology share one source). */
    record TraceSettingsView(Duration retention, Duration purgeInterval, int maxEvents) {
    }
}
