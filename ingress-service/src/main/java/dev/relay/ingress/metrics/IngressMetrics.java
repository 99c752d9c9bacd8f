package dev.relay.ingress.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * All ingress metric names in one place. Tags are bounded: listener, command verb, reply class, mechanism,
 * result — never a user, address, domain or IP.
 */
@ApplicationScoped
public class IngressMetrics {

    private final MeterRegistry registry;
    private final AtomicInteger activeSessions = new AtomicInteger();

    public IngressMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("smtp.sessions.active", activeSessions);
    }

    public void sessionOpened(String listener) {
        activeSessions.incrementAndGet();
        registry.counter("smtp.sessions", "listener", listener).increment();
    }

    public void sessionClosed() {
        activeSessions.decrementAndGet();
    }

    public void command(String verb, String replyClass) {
        registry.counter("smtp.commands", "command", verb, "reply.class", replyClass).increment();
    }

    public void auth(String mechanism, String result) {
        registry.counter("smtp.auth.attempts", "mechanism", mechanism, "result", result).increment();
    }

    /** @param result accepted, temp_failed or rejected */
    public void message(String result) {
        registry.counter("relay.ingress.messages", "result", result).increment();
    }

    public void messageSize(long bytes) {
        registry.summary("relay.ingress.message.size", "unit", "bytes").record(bytes);
    }

    /** The revision (rules-topic offset; -1 = the configured seed) of the rule set the sessions decide with. */
    public void rulesRevision(java.util.function.LongSupplier revision) {
        io.micrometer.core.instrument.Gauge.builder("relay.rules.revision", revision::getAsLong)
                .description("offset in the rules topic of the rule set in force; -1 while the configured seed is")
                .register(registry);
    }

    public Timer.Sample startPublish() {
        return Timer.start(registry);
    }

    public void publishDone(Timer.Sample sample, boolean stored) {
        sample.stop(registry.timer("relay.ingress.publish.duration", "result", stored ? "acked" : "failed"));
    }
}
