package dev.relay.policy.trace;

import dev.relay.policy.config.PolicyConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * Interactive queries of the trace store: this instance's part of it, and where the rest lives. Each policy
 * instance holds the traces of the events-topic partitions Kafka Streams assigned to it; an instance names itself
 * with {@code relay.policy.trace.endpoint} (Kafka Streams' {@code application.server}) ({@code host:port} of its HTTP API, in Kubernetes the pod
 * IP), and Kafka Streams tells every instance which one holds which key. Without that setting the instance is
 * taken to be alone (development, tests): everything is answered locally.
 */
@ApplicationScoped
public class TraceStore {

    /** The store is not queryable (starting, restoring its changelog, rebalancing): ask again shortly. */
    public static final class NotReady extends RuntimeException {
        NotReady(Throwable cause) {
            super("the trace store is not ready (starting or rebalancing); try again in a few seconds", cause);
        }
    }

    private final KafkaStreams streams;
    private final Optional<HostInfo> self;

    public TraceStore(KafkaStreams streams, PolicyConfig config) {
        this.streams = streams;
        this.self = config.trace().endpoint().filter(s -> !s.isBlank()).map(HostInfo::buildFromEndpoint);
    }

    /** The trace of a message in this instance's part of the store. */
    public Optional<Trace> local(String id) {
        byte[] value = store().get(id);
        return value == null ? Optional.empty() : Optional.of(TraceCodec.decode(value));
    }

    /**
     * The first {@code limit + 1} traces of this instance's part that match, in {@link TraceQuery#ORDER}: one more
     * than a page, so that a merge of every instance's answer knows whether a next page exists. Scans the whole
     * local part (bounded by the retention); keeps at most {@code limit + 1} at a time.
     */
    public List<Trace> localSearch(TraceQuery query) {
        int keep = query.limit() + 1;
        PriorityQueue<Trace> best = new PriorityQueue<>(TraceQuery.ORDER.reversed());
        try (KeyValueIterator<String, byte[]> all = store().all()) {
            while (all.hasNext()) {
                KeyValue<String, byte[]> entry = all.next();
                Trace trace = TraceCodec.decode(entry.value);
                if (query.matches(trace)) {
                    best.add(trace);
                    if (best.size() > keep) {
                        best.poll();
                    }
                }
            }
        }
        List<Trace> sorted = new ArrayList<>(best);
        sorted.sort(TraceQuery.ORDER);
        return sorted;
    }

    /** The other instance that holds this message's trace, or empty when this one does (or is alone). */
    public Optional<HostInfo> owner(String id) {
        if (self.isEmpty()) {
            return Optional.empty();
        }
        KeyQueryMetadata metadata = streams.queryMetadataForKey(TraceTopology.STORE, id, Serdes.String().serializer());
        if (metadata == null || KeyQueryMetadata.NOT_AVAILABLE.equals(metadata)
                || metadata.activeHost().equals(self.get())) {
            return Optional.empty();
        }
        return Optional.of(metadata.activeHost());
    }

    /** The other instances that hold part of the store (a search asks each of them). */
    public List<HostInfo> peers() {
        if (self.isEmpty()) {
            return List.of();
        }
        return streams.metadataForAllStreamsClients().stream()
                .filter(m -> m.stateStoreNames().contains(TraceTopology.STORE))
                .map(m -> m.hostInfo()).filter(h -> !h.equals(self.get())).distinct().toList();
    }

    private ReadOnlyKeyValueStore<String, byte[]> store() {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(TraceTopology.STORE,
                    QueryableStoreTypes.keyValueStore()));
        } catch (InvalidStateStoreException e) {
            throw new NotReady(e);
        }
    }
}
