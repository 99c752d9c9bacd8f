package dev.relay.delivery.transport;

import dev.relay.delivery.auth.CredentialStore;
import dev.relay.delivery.metrics.OutboundExtensionMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.Optional;

/**
 * The optional SMTP extensions of the client side: AUTH towards hops that name a credential, and CHUNKING.
 *
 * @param credentials where the credentials hops name come from; empty: a hop that names one is deferred
 * @param chunking    when to use BDAT
 * @param metrics     AUTH and CHUNKING counters
 */
public record OutboundOptions(Optional<CredentialStore> credentials, Chunking chunking,
                              OutboundExtensionMetrics metrics) {

    /** No credentials, no BDAT (tools and tests). */
    public static OutboundOptions none() {
        return new OutboundOptions(Optional.empty(), Chunking.never(),
                new OutboundExtensionMetrics(new SimpleMeterRegistry()));
    }
}
