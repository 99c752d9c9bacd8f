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

    /** A message held by a rate limit; {@code limit} is the limit's name in the rule set (bounded by the rules). */
    public void held(String limit) {
        registry.counter("relay.policy.held", "limit", limit).increment();
        decision("rateLimits", "hold");
    }

    /** A held message the window now admits, routed. */
    public void released() {
        registry.counter("relay.policy.released").increment();
    }

    /** The held backlog: records waiting on the held topic in this instance's partitions. */
    public void heldBacklog(java.util.function.Supplier<Number> backlog) {
        io.micrometer.core.instrument.Gauge.builder("relay.policy.held.messages", backlog)
                .description("messages held by a rate limit, not yet released").register(registry);
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
