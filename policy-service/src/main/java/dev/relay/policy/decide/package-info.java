/**
 * The authoritative decision, pure: no Kafka, no CDI, no clock of its own. {@link dev.relay.policy.decide.PolicyEngine}
 * re-evaluates every recipient with the shared rule engine and groups the allowed ones by next hop
 * ({@link dev.relay.policy.decide.Router}, the transport map: where is part of the decision);
 * {@link dev.relay.policy.decide.PolicyDecision} is the outcome, with the header edits it asks for
 * ({@link dev.relay.policy.decide.HeaderEditor}) and the DSN owed to a vouched-for sender for refused recipients
 * ({@link dev.relay.policy.decide.RefusalNotifier}). Tested without a broker.
 */
package dev.relay.policy.decide;
