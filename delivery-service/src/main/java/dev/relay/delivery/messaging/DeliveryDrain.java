package dev.relay.delivery.messaging;

import dev.relay.common.lifecycle.Drain;
import dev.relay.delivery.config.DeliveryConfig;
import dev.relay.delivery.metrics.DeliveryMetrics;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Graceful drain on shutdown (SIGTERM): readiness goes DOWN, the outbound consumer and the retry loop take no
 * new record, deliveries in flight get {@code relay.delivery.shutdown-grace} to finish and make their outcome
 * durable. Whatever is unfinished then stays uncommitted and goes to another instance of the group (a duplicate
 * delivery is possible for a record cut off mid-transaction; a loss is not).
 *
 * <p>Runs at the very start of Quarkus' shutdown ({@link ShutdownDelayInitiatedEvent}, with
 * {@code quarkus.shutdown.delay-enabled}): the HTTP server still answers then, so the probe sees readiness DOWN
 * for the whole drain, and the Kafka connector has closed nothing yet, so outcomes of finishing deliveries are
 * still published and committed. {@link ShutdownEvent} (later) drains too if the first hook did not run.
 */
@Startup // the draining gauge is scraped as 0 from the start
@Readiness
@ApplicationScoped
public class DeliveryDrain implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(DeliveryDrain.class);
    private static final long POLL_MILLIS = 50;

    private final OutboundConsumer outbound;
    private final RetryConsumer retry;
    private final Duration grace;
    private final AtomicBoolean draining = new AtomicBoolean();

    public DeliveryDrain(OutboundConsumer outbound, RetryConsumer retry, DeliveryConfig config,
                         DeliveryMetrics metrics) {
        this.outbound = outbound;
        this.retry = retry;
        this.grace = config.shutdownGrace();
        metrics.draining(() -> draining.get() ? 1 : 0);
    }

    void onShutdownStarted(@Observes ShutdownDelayInitiatedEvent event) {
        drain();
    }

    void onShutdown(@Observes ShutdownEvent event) {
        drain();
    }

    /** Stops taking records and waits (at most the grace period) for deliveries in flight. Idempotent. */
    public void drain() {
        if (!draining.compareAndSet(false, true)) {
            return;
        }
        long started = System.currentTimeMillis();
        LOG.infof("draining: taking no new records, %d outbound delivery(ies) in flight, grace %s",
                outbound.inFlight(), grace);
        outbound.stopTaking();
        CompletableFuture<Void> retryClosed = CompletableFuture.runAsync(() -> retry.close(grace));
        Drain.await(outbound::inFlight, grace, POLL_MILLIS);
        retryClosed.join();
        int left = outbound.inFlight();
        if (left > 0) {
            LOG.warnf("drained for %d ms: %d outbound delivery(ies) unfinished; their records stay uncommitted",
                    System.currentTimeMillis() - started, left);
        } else {
            LOG.infof("drained in %d ms", System.currentTimeMillis() - started);
        }
    }

    public boolean draining() {
        return draining.get();
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("delivery-drain").status(!draining.get())
                .withData("draining", draining.get()).withData("inFlight", outbound.inFlight()).build();
    }
}
