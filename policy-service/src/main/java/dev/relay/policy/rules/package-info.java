/**
 * The rules in force: {@link dev.relay.policy.rules.RuleStore} owns the rules topic (follows it, seeds it, writes
 * the admin API's rule sets), and {@link dev.relay.policy.rules.EngineProducer} builds the one
 * {@code PolicyEngine} bean (and its {@code RefusalNotifier}) that decides with them; everything that decides
 * injects that bean. {@link dev.relay.policy.rules.SuppressionStore} does for the suppression topic what the
 * rule store does for the rules topic (follows it, writes the admin API's entries and tombstones; docs/adr/0015).
 */
package dev.relay.policy.rules;
