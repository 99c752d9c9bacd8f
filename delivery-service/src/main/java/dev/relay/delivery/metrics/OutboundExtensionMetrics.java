package dev.relay.delivery.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Locale;

/**
 * Metrics of AUTH towards smarthosts and routes and of CHUNKING (docs/adr/0014-outbound-auth-and-chunking.md).
 * Tags are bounded: the mechanism (three values) and the result (four values); never a credential name, user,
 * host or address.
 * <ul>
 *   <li>{@code relay.delivery.auth{mechanism=plain|login|xoauth2, result=success|failure|not-offered|no-tls}}:
 *       counter, one per AUTH decision. {@code failure} (the upstream refused our credential, e.g. 535) and
 *       {@code no-tls} are worth an alert: mail for that hop stays queued until the operator acts.</li>
 *   <li>{@code relay.delivery.chunking}: counter, transactions that sent the message with BDAT (RFC 3030).</li>
 * </ul>
 */
public class OutboundExtensionMetrics {

    public static final String AUTH = "relay.delivery.auth";
    public static final String CHUNKING = "relay.delivery.chunking";

    /** The only values of the {@code result} tag. */
    public enum AuthResult { SUCCESS, FAILURE, NOT_OFFERED, NO_TLS;

        String tag() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final MeterRegistry registry;
    private final Counter chunking;

    public OutboundExtensionMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.chunking = Counter.builder(CHUNKING).description("Outbound transactions that sent the message with BDAT")
                .register(registry);
    }

    /** @param mechanism plain, login or xoauth2 */
    public void auth(String mechanism, AuthResult result) {
        Counter.builder(AUTH).description("AUTH towards smarthosts and routes by mechanism and result")
                .tag("mechanism", mechanism).tag("result", result.tag())
                .register(registry).increment();
    }

    public void chunked() {
        chunking.increment();
    }

    public double authCount(String mechanism, AuthResult result) {
        Counter c = registry.find(AUTH).tag("mechanism", mechanism).tag("result", result.tag()).counter();
        return c == null ? 0 : c.count();
    }

    public double chunkedCount() {
        return chunking.count();
    }
}
