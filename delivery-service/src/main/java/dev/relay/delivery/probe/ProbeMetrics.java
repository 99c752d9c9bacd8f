package dev.relay.delivery.probe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The probe's metrics: {@code relay_probe_runs_total{outcome,stage}} (stage: where a failed probe stopped, a fixed
 * set), {@code relay_probe_latency_seconds} (submission to the {@code delivered} event, successes only) and
 * {@code relay_probe_last_success_timestamp_seconds} (0 until the first success), which an alert compares with
 * {@code time()}. Every series is registered at start, so a probe that never succeeds still shows.
 */
public final class ProbeMetrics {

    public static final String RUNS = "relay.probe.runs";
    public static final String LATENCY = "relay.probe.latency";
    public static final String LAST_SUCCESS = "relay.probe.last.success.timestamp";

    /** Where a probe ended; the tag values of {@link #RUNS}. */
    public enum Stage {
        /** delivered: the success. */
        DELIVERED,
        /** no token from Keycloak (unreachable, wrong secret, malformed answer). */
        TOKEN,
        /** the submission failed (connection, STARTTLS, AUTH, a refused MAIL/RCPT/DATA). */
        SUBMIT,
        /** the events topic could not be read. */
        EVENTS,
        /** the message was bounced, expired or suppressed instead of delivered. */
        NOT_DELIVERED,
        /** no {@code delivered} event within {@code relay.probe.timeout}. */
        TIMEOUT,
        /** anything else (a bug): counted, never rethrown. */
        ERROR
    }

    private final Map<Stage, Counter> runs = new EnumMap<>(Stage.class);
    private final Timer latency;
    private final AtomicLong lastSuccessSeconds = new AtomicLong();

    public ProbeMetrics(MeterRegistry registry) {
        for (Stage stage : Stage.values()) {
            runs.put(stage, Counter.builder(RUNS)
                    .description("Synthetic probes by outcome and by the stage a failed one stopped at")
                    .tag("outcome", stage == Stage.DELIVERED ? "success" : "failure")
                    .tag("stage", stage.name().toLowerCase(java.util.Locale.ROOT))
                    .register(registry));
        }
        latency = Timer.builder(LATENCY)
                .description("Synthetic probe: from submission to the delivered event")
                .register(registry);
        Gauge.builder(LAST_SUCCESS, lastSuccessSeconds, AtomicLong::get)
                .description("Epoch seconds of the last successful synthetic probe (0: none yet)")
                .baseUnit("seconds")
                .register(registry);
    }

    public void succeeded(Duration took, long nowEpochSeconds) {
        runs.get(Stage.DELIVERED).increment();
        latency.record(took);
        lastSuccessSeconds.set(nowEpochSeconds);
    }

    public void failed(Stage stage) {
        runs.get(stage == Stage.DELIVERED ? Stage.ERROR : stage).increment();
    }
}
