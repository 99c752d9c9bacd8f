package dev.relay.policy.rules;

import dev.relay.common.dsn.DsnComposer;
import dev.relay.common.net.HostName;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.decide.PolicyEngine;
import dev.relay.policy.decide.RefusalNotifier;
import dev.relay.policy.decide.Router;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.time.Clock;

/**
 * Builds the one {@link PolicyEngine} of this process, deciding with the rules in force (the newest valid rule
 * set in the rules topic, read per message) and that rule set's routes, else the configured ones; and the
 * {@link RefusalNotifier} that routes its DSNs with the same engine. The decide-and-route step, the admin API's
 * dry run and the metrics inject these beans, so that nobody builds an engine of its own.
 */
@Singleton
public class EngineProducer {

    @Produces
    @Singleton
    PolicyEngine engine(RuleStore rules, PolicyConfig config) {
        // the rules in force (newest valid rule set in the rules topic); its routes, else the configured ones
        return new PolicyEngine(rules.holder(), new Router(config.routes(), config.smarthost(),
                config.routeTls()), config.routeTls());
    }

    @Produces
    @Singleton
    RefusalNotifier refusals(PolicyEngine engine, PolicyConfig config) {
        String reportingMta = config.dsn().reportingMta().filter(s -> !s.isBlank())
                .orElseGet(HostName::local);
        return new RefusalNotifier(engine, new DsnComposer(reportingMta, reportingMta,
                config.dsn().maxFullOriginal(), Clock.systemUTC()));
    }
}
