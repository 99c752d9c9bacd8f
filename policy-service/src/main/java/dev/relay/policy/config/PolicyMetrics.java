package dev.relay.policy.config;

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

    /**
     * A message held by a rate limit; {@code limit} is the limit's name in the rule set (bounded by the rules), or
     * {@code dkim-key-unusable} for a message whose signing rule cannot sign yet.
     */
    public void held(String limit) {
        registry.counter("relay.policy.held", "limit", limit).increment();
        decision("dkim-key-unusable".equals(limit) ? "dkim" : "rateLimits", "hold");
    }

    /**
     * Refusals after acceptance that get no DSN because nobody vouched for the sender (neither authenticated nor
     * from a trusted network): backscatter that was not sent.
     */
    public void dsnSuppressed() {
        registry.counter("relay.policy.dsn.suppressed").increment();
    }

    /** A held message the window now admits, routed. */
    public void released() {
        registry.counter("relay.policy.released").increment();
    }

    /** The held backlog: records on the held topic the releasers have not committed (cluster-wide). */
    public void heldBacklog(java.util.function.Supplier<Number> backlog) {
        removeStale("relay.policy.held.messages");
        io.micrometer.core.instrument.Gauge.builder("relay.policy.held.messages", backlog)
                .description("messages held by a rate limit, not yet released").register(registry);
    }

    /** The revision (rules-topic offset; -1 = the configured seed) of the rule set in force on this instance. */
    public void rulesRevision(java.util.function.LongSupplier revision) {
        removeStale("relay.rules.revision");
        io.micrometer.core.instrument.Gauge.builder("relay.rules.revision", revision::getAsLong)
                .description("offset in the rules topic of the rule set in force; -1 while the configured seed is")
                .register(registry);
    }

    /**
     * Removes a gauge an earlier start registered under this name: a registry can outlive the beans whose values a
     * gauge reads (an application restarted in the same JVM, as the tests do once Kafka Streams runs beside it),
     * and Micrometer would keep the first gauge, reading a stopped instance, and ignore the new one.
     */
    private void removeStale(String name) {
        registry.find(name).meters().forEach(registry::remove);
    }

    /** Time to evaluate one message against the rules (the engine only, not the Kafka round trips). */
    public void evaluated(long nanos) {
        registry.timer("relay.policy.evaluation.duration").record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** A header field removed ({@code strip}) or added ({@code add}) by the rule set's header hygiene. */
    public void headerEdits(String action, int count) {
        if (count > 0) {
            registry.counter("relay.policy.header.edits", "action", action).increment(count);
        }
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

    /** One DKIM signature made; {@code domain} is the signing domain of a rule (operator configuration). */
    public void dkimSigned(String domain, String algorithm) {
        registry.counter("relay.policy.dkim.signatures", "domain", domain, "algorithm", algorithm).increment();
    }

    /**
     * A message not signed, or a key file refused; {@code reason} is one of a fixed set ({@code key-unusable},
     * {@code key-invalid}, {@code no-from}, {@code several-from}, {@code unreadable-from}, {@code sign-error}).
     */
    public void dkimFailure(String reason) {
        registry.counter("relay.policy.dkim.failures", "reason", reason).increment();
    }

    /** The gauge of loaded keys, one row per {@code domain}/{@code selector} (the key directory's names). */
    public io.micrometer.core.instrument.MultiGauge dkimKeys() {
        return io.micrometer.core.instrument.MultiGauge.builder("relay.policy.dkim.keys")
                .description("DKIM signing keys loaded (1 per domain and selector)").register(registry);
    }

    /**
     * One webhook POST's outcome: {@code delivered}, {@code retry} (failed, scheduled again), {@code dead} (given
     * up on), {@code dropped} (its subscription was deleted meanwhile).
     */
    public void webhookDelivery(String result) {
        registry.counter("relay.policy.webhook.deliveries", "result", result).increment();
    }
}
