package dev.relay.delivery.metrics;

import dev.relay.delivery.transport.DeliveryStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.EnumMap;
import java.util.Map;

/**
 * Every metric of the delivery service, in one place. Tags are bounded: never an address, domain or host.
 * <ul>
 *   <li>{@code relay.delivery.attempts{result=delivered|deferred|bounced}}: counter, one per recipient per
 *       delivery attempt.</li>
 *   <li>{@code relay.delivery.duration}: timer, one outbound record from receipt to durable outcome
 *       (routing, SMTP, events and retry acknowledged).</li>
 *   <li>{@code relay.delivery.dlq}: counter, undecodable records moved to the dead-letter topic.</li>
 * </ul>
 */
@Startup // registered at boot, so every series is scraped as 0 before the first record arrives
@ApplicationScoped
public class DeliveryMetrics {

    public static final String ATTEMPTS = "relay.delivery.attempts";
    public static final String DURATION = "relay.delivery.duration";
    public static final String DLQ = "relay.delivery.dlq";

    private final MeterRegistry registry;
    private final Map<DeliveryStatus, Counter> attempts = new EnumMap<>(DeliveryStatus.class);
    private final Timer duration;
    private final Counter dlq;

    public DeliveryMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (DeliveryStatus status : DeliveryStatus.values()) {
            attempts.put(status, Counter.builder(ATTEMPTS)
                    .description("Recipient delivery attempts by result")
                    .tag("result", result(status))
                    .register(registry));
        }
        this.duration = Timer.builder(DURATION)
                .description("Time from receiving an outbound record to its durable outcome")
                .register(registry);
        this.dlq = Counter.builder(DLQ)
                .description("Undecodable records moved to the dead-letter topic")
                .register(registry);
    }

    /** The event and tag name of a status: delivered, deferred (transient) or bounced (permanent). */
    public static String result(DeliveryStatus status) {
        return switch (status) {
            case DELIVERED -> "delivered";
            case TRANSIENT -> "deferred";
            case PERMANENT -> "bounced";
        };
    }

    public void attempted(DeliveryStatus status, int recipients) {
        attempts.get(status).increment(recipients);
    }

    public Timer.Sample start() {
        return Timer.start(registry);
    }

    public void finished(Timer.Sample sample) {
        sample.stop(duration);
    }

    public void deadLettered() {
        dlq.increment();
    }
}
