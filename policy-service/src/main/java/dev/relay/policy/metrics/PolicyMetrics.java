package dev.relay.policy.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

/** All policy metric names in one place; tags are bounded (rule names, verdicts), never addresses. */
@ApplicationScoped
public class PolicyMetrics {

    private final MeterRegistry registry;

    public PolicyMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** @param verdict allow or deny; rule is one of the engine's fixed rule names */
    public void decision(String rule, String verdict) {
        registry.counter("relay.policy.decisions", "rule", rule, "verdict", verdict).increment();
    }

    public void dlq() {
        registry.counter("relay.policy.dlq").increment();
    }

    public Timer.Sample start() {
        return Timer.start(registry);
    }

    public void processed(Timer.Sample sample) {
        sample.stop(registry.timer("relay.policy.processing.duration"));
    }
}
