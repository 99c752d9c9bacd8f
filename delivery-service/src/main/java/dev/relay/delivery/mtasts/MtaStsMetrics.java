package dev.relay.delivery.mtasts;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.function.Supplier;

/**
 * MTA-STS metrics; tags are bounded (never a domain): {@code relay.delivery.mta.sts{mode, result}} (Prometheus
 * {@code relay_delivery_mta_sts_total}), per delivery attempt to a domain with a policy (or with a record whose
 * policy could not be fetched), {@code relay.delivery.mta.sts.policy.fetches{result}} and the gauge
 * {@code relay.delivery.mta.sts.policies} (policies cached).
 */
public final class MtaStsMetrics {

    /** Results of a policy fetch. */
    public enum FetchResult {
        OK("ok"), FAILED("failed"), BUSY("busy");

        final String tag;

        FetchResult(String tag) {
            this.tag = tag;
        }
    }

    private final MeterRegistry registry;

    public MtaStsMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** One attempt to a domain: {@code mode} enforce|testing|none, {@code result} pass|fail|fetch-failed. */
    public void attempt(String mode, String result) {
        Counter.builder("relay.delivery.mta.sts")
                .description("Delivery attempts to domains with an MTA-STS policy, by mode and outcome")
                .tag("mode", mode).tag("result", result).register(registry).increment();
    }

    public void fetched(FetchResult result) {
        Counter.builder("relay.delivery.mta.sts.policy.fetches")
                .description("MTA-STS policy fetches over HTTPS, by result")
                .tag("result", result.tag).register(registry).increment();
    }

    public void watchCache(Supplier<Number> size) {
        Gauge.builder("relay.delivery.mta.sts.policies", size).description("MTA-STS policies cached")
                .register(registry);
    }
}
