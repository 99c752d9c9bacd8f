package dev.relay.delivery.tlsrpt;

import dev.relay.delivery.config.DeliveryConfig;
import dev.relay.delivery.kafka.KafkaAckedSend;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.outcome.TlsDecision;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Writes the TLS outcome of a delivery attempt to the TLS-RPT topic (channel {@code tlsrpt-out}, key = policy
 * domain): one record per recipient domain of the attempt, from the first result of that domain that is a TLS
 * session or a TLS failure ({@link ResultType}); static routes and the table's {@code none} are not reported. Best
 * effort and never in the way of the delivery: the write is not part of the record's outcome, a full buffer or a
 * failed write is logged and counted ({@code result="unrecorded"}), never retried.
 */
@ApplicationScoped
public class TlsRptRecorder {

    private static final Logger LOG = Logger.getLogger(TlsRptRecorder.class);

    @Inject
    @Channel("tlsrpt-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> records;

    private final boolean enabled;
    private final String topic;
    private final TlsRptMetrics metrics;

    public TlsRptRecorder(DeliveryConfig config, TlsRptMetrics metrics) {
        this.enabled = config.tlsrpt().enabled();
        this.topic = config.tlsrpt().topic();
        this.metrics = metrics;
    }

    public void record(List<RecipientResult> results) {
        if (!enabled) {
            return;
        }
        Set<String> done = new HashSet<>();
        long now = System.currentTimeMillis();
        for (RecipientResult r : results) {
            String rcpt = r.recipient();
            int at = rcpt.lastIndexOf('@');
            TlsDecision d = r.tlsDecision();
            if (at < 0 || d == null || "route".equals(d.source())) {
                continue;
            }
            String domain = rcpt.substring(at + 1).toLowerCase(Locale.ROOT);
            if (done.contains(domain)) {
                continue;
            }
            Optional<String> type = ResultType.of(r);
            if (type.isEmpty()) {
                continue;
            }
            done.add(domain);
            String mx = r.peer() != null ? r.peer().hostName() : d.host();
            String ip = r.peer() != null ? r.peer().address() : null;
            SessionResult result = new SessionResult(SessionResult.RESULT, now, domain, d.reportType(),
                    d.reportStrings(), mx, ip, type.get());
            send(result);
        }
    }

    private void send(SessionResult result) {
        try {
            KafkaAckedSend.send(records, topic, result.domain(), result.toJson(), null).whenComplete((v, e) -> {
                if (e == null) {
                    metrics.result(result.result());
                } else {
                    LOG.warnf("TLS-RPT result for %s not recorded: %s", result.domain(), e.getMessage());
                    metrics.result("unrecorded");
                }
            });
        } catch (RuntimeException e) { // the emitter's buffer is full
            LOG.warnf("TLS-RPT result for %s not recorded: %s", result.domain(), e.getMessage());
            metrics.result("unrecorded");
        }
    }
}
