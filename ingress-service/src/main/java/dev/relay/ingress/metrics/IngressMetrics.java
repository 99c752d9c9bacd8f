package dev.relay.ingress.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * All ingress metric names in one place. Tags are bounded: listener, command verb, reply class, mechanism,
 * result — never a user, address, domain or IP.
 */
@ApplicationScoped
public class IngressMetrics {

    private final MeterRegistry registry;
    private final AtomicInteger activeSessions = new AtomicInteger();
    /** Meters by name and tag values: looked up several times per message, built (tags sorted) only once. */
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final DistributionSummary messageSize;

    public IngressMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("smtp.sessions.active", activeSessions);
        this.messageSize = registry.summary("relay.ingress.message.size", "unit", "bytes");
    }

    private Counter counter(String name, String... tags) {
        return counters.computeIfAbsent(name + '|' + String.join("|", tags), key -> registry.counter(name, tags));
    }

    public void sessionOpened(String listener) {
        activeSessions.incrementAndGet();
        counter("smtp.sessions", "listener", listener).increment();
    }

    public void sessionClosed() {
        activeSessions.decrementAndGet();
    }

    public void command(String verb, String replyClass) {
        counter("smtp.commands", "command", verb, "reply.class", replyClass).increment();
    }

    public void auth(String mechanism, String result) {
        counter("smtp.auth.attempts", "mechanism", mechanism, "result", result).increment();
    }

    /** @param result accepted, temp_failed or rejected */
    public void message(String result) {
        counter("relay.ingress.messages", "result", result).increment();
    }

    public void messageSize(long bytes) {
        messageSize.record(bytes);
    }

    /** The revision (rules-topic offset; -1 = the configured seed) of the rule set the sessions decide with. */
    public void rulesRevision(java.util.function.LongSupplier revision) {
        io.micrometer.core.instrument.Gauge.builder("relay.rules.revision", revision::getAsLong)
                .description("offset in the rules topic of the rule set in force; -1 while the configured seed is")
                .register(registry);
    }

    /**
     * Message bytes reserved in the shared memory budget right now: zero when no transaction holds bytes, so a value
     * that stays above zero on an idle ingress is a reservation that was never released (a leak a peer can drive).
     */
    public void memoryReserved(java.util.function.LongSupplier reserved) {
        io.micrometer.core.instrument.Gauge.builder("relay.ingress.memory.reserved", reserved::getAsLong)
                .description("message bytes reserved in the memory budget (relay.ingress.smtp.max-buffered-bytes)")
                .baseUnit("bytes")
                .register(registry);
    }

    /**
     * End of validity (notAfter, epoch seconds) of the certificate new TLS sessions get: what an expiry alert
     * watches, since a renewal that never reached the listeners shows here and nowhere else.
     */
    public void tlsCertificateExpiry(java.util.function.LongSupplier notAfterEpochSeconds) {
        io.micrometer.core.instrument.Gauge.builder("relay.ingress.tls.certificate.expiry",
                        notAfterEpochSeconds::getAsLong)
                .description("notAfter of the certificate the SMTP listeners serve, in seconds since the epoch")
                .baseUnit("seconds")
                .register(registry);
    }

    /** Both results at zero from the start, so that a rate or increase over the failures has a series to read. */
    public void tlsReloadsRegistered() {
        counter("relay.ingress.tls.reloads", "result", "success");
        counter("relay.ingress.tls.reloads", "result", "failure");
    }

    /** A changed certificate/key pair was served (success) or refused and the old one kept (failure). */
    public void tlsReload(boolean success) {
        counter("relay.ingress.tls.reloads", "result", success ? "success" : "failure").increment();
    }

    /** Every reason at zero from the start, so that an alert on the dropped events has a series to read. */
    public void eventsRegistered() {
        for (String reason : new String[] {"queue-full", "kafka-unavailable", "send-failed"}) {
            counter("relay.ingress.events.dropped", "reason", reason);
        }
    }

    /**
     * An ingress event was not written (Prometheus {@code relay_ingress_events_dropped_total}): {@code queue-full}
     * (the events thread did not keep up), {@code kafka-unavailable} (no metadata or producer buffer in time),
     * {@code send-failed} (the broker did not acknowledge it). The message itself is unaffected.
     */
    public void eventDropped(String reason) {
        counter("relay.ingress.events.dropped", "reason", reason).increment();
    }

    public Timer.Sample startPublish() {
        return Timer.start(registry);
    }

    public void publishDone(Timer.Sample sample, boolean stored) {
        String result = stored ? "acked" : "failed";
        sample.stop(timers.computeIfAbsent(result, r -> registry.timer("relay.ingress.publish.duration", "result", r)));
    }
}
