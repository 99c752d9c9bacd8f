package dev.relay.policy.config;

import dev.relay.policy.decide.PolicyEngine;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

/** Connects the engine's observer to the metrics: evaluation time and header edits. */
@Startup
@ApplicationScoped
public class EngineMetrics {

    public EngineMetrics(PolicyEngine engine, PolicyMetrics metrics) {
        engine.observe(new PolicyEngine.Observer() {
            @Override
            public void evaluated(long nanos) {
                metrics.evaluated(nanos);
            }

            @Override
            public void headersEdited(int stripped, int added) {
                metrics.headerEdits("strip", stripped);
                metrics.headerEdits("add", added);
            }
        });
    }
}
