package dev.relay.policy.rules;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.rules.RuleSet;
import dev.relay.common.rules.RuleSetCodec;
import dev.relay.policy.consume.IsolatedTopicsResource;
import dev.relay.policy.decide.PolicyDecision;
import dev.relay.policy.decide.PolicyEngine;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The policy engine is one CDI bean (issue 14): injected as such, it decides with the rules the rules topic holds
 * now, and the metrics observe that same engine.
 */
@QuarkusTest
@QuarkusTestResource(IsolatedTopicsResource.class)
class EngineProducerTest {

    @Inject
    PolicyEngine engine;

    @Inject
    RuleStore store;

    @Inject
    MeterRegistry registry;

    @Test
    void shouldDecideWithTheRulesInTheRulesTopic() throws Exception {
        RuleSet before = store.holder().current().rules().ruleSet();
        Envelope envelope = new Envelope(Envelope.VERSION, "E1", 0, "192.0.2.9", "helo", "relay", false, null,
                "someone@outside.example", List.of("postmaster@example.test"), false, "7BIT", 3, null, 0);
        assertThat(engine.evaluate(envelope).refused()).isEmpty();
        store.publish(RuleSetCodec.parse("""
                {"version":1,"localDomains":["example.test"],"relayRoles":["smtp-relay"],
                 "recipients":{"deny":["postmaster@example.test"]}}"""));
        try {
            assertThat(engine.rules()).isSameAs(store.holder().get());
            assertThat(engine.evaluate(envelope).refused()).extracting(PolicyDecision.Refusal::rule)
                    .containsExactly("recipients.deny[0]");
        } finally {
            store.publish(before);
        }
    }

    @Test
    void shouldBeTheEngineTheMetricsObserve() {
        long before = registry.timer("relay.policy.evaluation.duration").count();
        engine.decide(new Envelope(Envelope.VERSION, "E2", 0, "192.0.2.9", "helo", "relay", false, null,
                "someone@outside.example", List.of("postmaster@example.test"), false, "7BIT", 3, null, 0));
        assertThat(registry.timer("relay.policy.evaluation.duration").count()).isGreaterThan(before);
    }
}
