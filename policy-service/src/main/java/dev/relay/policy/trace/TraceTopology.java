package dev.relay.policy.trace;

import dev.relay.policy.config.PolicyConfig;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams application of the trace (docs/adr/0020): the events topic, already keyed by message id, into
 * one persistent key-value store ({@value #STORE}) through {@link TraceProcessor}. No repartition topic; the one
 * internal topic is the store's changelog, {@code <application id>-relay-trace-store-changelog} (compacted, as
 * many partitions as the events topic). Quarkus starts and stops the application around this topology.
 */
@ApplicationScoped
public class TraceTopology {

    /** The store's name (and part of its changelog topic's name). */
    public static final String STORE = "relay-trace-store";

    /** Not a normal-scoped bean: Kafka Streams reads the topology's fields, which a client proxy would not have. */
    @Produces
    @Singleton
    Topology topology(PolicyConfig config, MeterRegistry metrics) {
        PolicyConfig.TraceSettings trace = config.trace();
        TraceProcessor.TraceSettingsView view = new TraceProcessor.TraceSettingsView(trace.retention(),
                trace.purgeInterval(), trace.maxEvents());
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                Serdes.ByteArray()));
        builder.stream(config.topics().events(), Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .process(() -> new TraceProcessor(view, metrics), STORE);
        return builder.build();
    }
}
