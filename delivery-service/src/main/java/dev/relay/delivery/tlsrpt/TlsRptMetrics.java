package dev.relay.delivery.tlsrpt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * TLS-RPT in Prometheus: {@code relay_delivery_tlsrpt_results_total{result}} (success or an RFC 8460 result type,
 * a fixed set; {@code unrecorded} when the result could not be written), {@code
 * relay_delivery_tlsrpt_reports_total{result=sent|failed|no-rua}} (per report and rua) and {@code
 * relay_delivery_tlsrpt_cut_total{what=domain|policy|failure-detail}} (what a bound left out of a report). No tag
 * names a domain.
 */
@ApplicationScoped
public class TlsRptMetrics {

    private final MeterRegistry registry;

    public TlsRptMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void result(String result) {
        Counter.builder("relay.delivery.tlsrpt.results").tag("result", result)
                .description("delivery attempts recorded for TLS-RPT, by RFC 8460 result type").register(registry)
                .increment();
    }

    public void report(String result) {
        Counter.builder("relay.delivery.tlsrpt.reports").tag("result", result)
                .description("TLS-RPT reports: sent, failed (per rua) or no-rua (the domain takes none)")
                .register(registry).increment();
    }

    public void cut(String what) {
        Counter.builder("relay.delivery.tlsrpt.cut").tag("what", what)
                .description("results left out of TLS-RPT reports by a bound").register(registry).increment();
    }
}
