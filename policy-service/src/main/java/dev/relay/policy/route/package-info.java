/**
 * Acting on a decision, Kafka out. {@link dev.relay.policy.route.Dispatcher} decides one message with the engine
 * and routes it (outbound records per next hop, events, the DSN for refused recipients) or, when a rate limit
 * ({@link dev.relay.policy.route.RateLimiter}, cluster-wide counting) does not admit it now, holds it on the held
 * topic; {@link dev.relay.policy.route.DeadLetters} is the one place dead-letter records are built. Called by
 * both consumers in {@code consume}; knows neither.
 */
package dev.relay.policy.route;
