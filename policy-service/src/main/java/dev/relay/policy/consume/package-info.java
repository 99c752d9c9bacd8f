/**
 * Kafka in: the two topics the policy reads. {@link dev.relay.policy.consume.InboundConsumer} takes accepted
 * messages from {@code relay.inbound.v1} (in-flight window, acknowledgements, shutdown drain);
 * {@link dev.relay.policy.consume.HeldReleaser} takes held messages from the held topic once they are due (and
 * {@code HeldBacklog} measures what waits there). Both hand each message to {@code route.Dispatcher} and what they
 * cannot decode to {@code route.DeadLetters}; they decide nothing themselves and do not know each other.
 *
 * <p>The policy's packages, from the top: {@code api} (admin API) and {@code consume} (Kafka in) use
 * {@code route} (act on a decision: Kafka out, rate limits), which uses {@code rules} (the rules in force and the
 * engine bean built from them), {@code config} (keys, clock, metrics) and {@code decide} (the pure decision: no
 * Kafka, no CDI). Arrows only point down: {@code dev.relay.policy.PackageLayoutTest} checks that there is no
 * circle.
 */
package dev.relay.policy.consume;
