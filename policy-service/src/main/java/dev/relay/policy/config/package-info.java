/**
 * What the service is set up with and what it reports: every {@code relay.policy.*} key
 * ({@link dev.relay.policy.config.PolicyConfig}), the clock of rate-limit windows and due times
 * ({@link dev.relay.policy.config.PolicyClock}), and every metric name ({@link dev.relay.policy.config.PolicyMetrics},
 * fed by the engine's observer in {@link dev.relay.policy.config.EngineMetrics}).
 */
package dev.relay.policy.config;
