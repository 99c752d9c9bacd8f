package dev.relay.delivery.tlsrpt;

import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.kafka.Topics;
import dev.relay.common.net.HostName;
import dev.relay.delivery.config.DeliveryConfig;
import dev.relay.delivery.kafka.KafkaAckedSend;
import dev.relay.delivery.mtasts.WebPkiTrust;
import dev.relay.delivery.mx.DestinationGuard;
import dev.relay.delivery.mx.MxResolver;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.net.URI;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Aggregates the TLS-RPT topic and sends the reports (docs/adr/0016). Each delivery instance is one member of the
 * aggregators' consumer group and owns the partitions it is assigned, so every policy domain (the key) is
 * aggregated by exactly one instance. On every assignment it forgets what it held and reads its partitions again
 * from the start of the previous window (offsets by time): a restart or a rebalance loses no window. A window is
 * closed once it ended (plus a grace for late writers) and the partitions are read to their end; then, per domain,
 * the report is built, the {@code _smtp._tls} record looked up and the report sent to each rua, and a {@code sent}
 * marker written to the domain's partition, which every later reader of the window honours: a report is not sent
 * twice (a crash between the send and the marker's acknowledgement can repeat one, which RFC 8460 receivers
 * tolerate by report-id). A failed send is logged and counted, not retried.
 *
 * <p>Runs on a thread of its own (Kafka's consumer blocks, and so does waiting for a send): never on an event
 * loop. Bounded: two windows at most (the current and the previous one), {@link WindowAggregate}'s bounds within
 * each, at most {@value #DOMAINS_PER_PASS} reports between two polls, every DNS lookup and send within
 * {@code relay.delivery.tlsrpt.send-timeout}.
 */
@ApplicationScoped
public class TlsRptAggregator {

    private static final Logger LOG = Logger.getLogger(TlsRptAggregator.class);
    static final int DOMAINS_PER_PASS = 20;

    @Inject
    @Channel("tlsrpt-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> markers;

    @Inject
    @Channel("mail-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> mail;

    private final DeliveryConfig.Tlsrpt config;
    private final TlsRptMetrics metrics;
    private final MxResolver dns;
    private final String bootstrap;
    private final String outboundTopic;
    private final String ownName;
    private final long window;
    private final long grace;
    private final ReportPoster poster;

    private final TreeMap<Long, WindowAggregate> windows = new TreeMap<>();
    private final Map<Long, Set<String>> sent = new HashMap<>();
    private volatile boolean running;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private Thread thread;

    public TlsRptAggregator(DeliveryConfig config, TlsRptMetrics metrics, MxResolver dns, Vertx vertx,
                            WebPkiTrust trust,
                            @ConfigProperty(name = "kafka.bootstrap.servers") String bootstrap,
                            @ConfigProperty(name = "mp.messaging.incoming.outbound.topic",
                                    defaultValue = Topics.OUTBOUND) String outboundTopic) {
        this.config = config.tlsrpt();
        this.metrics = metrics;
        this.dns = dns;
        this.bootstrap = bootstrap;
        this.outboundTopic = outboundTopic;
        this.ownName = HostName.of(config.heloName());
        this.window = Math.max(1000, this.config.window().toMillis());
        this.grace = Math.min(window / 4, Duration.ofMinutes(5).toMillis());
        this.poster = this.config.enabled() ? new ReportPoster(vertx, dns,
                new DestinationGuard(config.testOnlyAllowPrivateMx()), trust, this.config.sendTimeout()) : null;
    }

    void onStart(@Observes StartupEvent event) {
        if (!config.enabled()) {
            return;
        }
        LOG.infof("TLS-RPT on: results to %s, reports per %s window as %s", config.topic(), config.window(),
                config.organizationName());
        running = true;
        thread = new Thread(this::run, "tlsrpt-aggregator");
        thread.setDaemon(true);
        thread.start();
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        if (thread != null) {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        }
        if (poster != null) {
            poster.close();
        }
    }

    private void run() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(1024 * 1024));
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer = c;
            c.subscribe(List.of(config.topic()), new Rebalance(c));
            while (running) {
                try {
                    ConsumerRecords<String, byte[]> records = c.poll(Duration.ofMillis(500));
                    for (ConsumerRecord<String, byte[]> r : records) {
                        SessionResult.of(r.value()).ifPresent(this::take);
                    }
                    if (records.isEmpty()) {
                        closeDue(c, System.currentTimeMillis());
                    }
                } catch (WakeupException e) {
                    // stopping
                } catch (RuntimeException e) {
                    LOG.errorf(e, "TLS-RPT aggregation failed; going on");
                    sleep();
                }
            }
        } catch (RuntimeException e) {
            LOG.errorf(e, "TLS-RPT aggregator stopped");
        }
    }

    /** Reads each assigned partition again from the start of the previous window. */
    private final class Rebalance implements ConsumerRebalanceListener {
        private final KafkaConsumer<String, byte[]> c;

        Rebalance(KafkaConsumer<String, byte[]> c) {
            this.c = c;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            windows.clear();
            sent.clear();
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            windows.clear();
            sent.clear();
            long from = windowOf(System.currentTimeMillis()) - window;
            Map<TopicPartition, Long> times = new HashMap<>();
            partitions.forEach(p -> times.put(p, from));
            Map<TopicPartition, OffsetAndTimestamp> offsets = c.offsetsForTimes(times);
            Map<TopicPartition, Long> ends = c.endOffsets(partitions);
            for (TopicPartition p : partitions) {
                OffsetAndTimestamp o = offsets.get(p);
                c.seek(p, o != null ? o.offset() : ends.getOrDefault(p, 0L));
            }
        }
    }

    long windowOf(long at) {
        return Math.floorDiv(at, window) * window;
    }

    /** One record of the topic into the windows (not older than the previous one, none from the future). */
    void take(SessionResult r) {
        long w = windowOf(r.at());
        long current = windowOf(System.currentTimeMillis());
        if (w < current - window || w > current) {
            return;
        }
        if (SessionResult.SENT.equals(r.kind())) {
            sent.computeIfAbsent(w, k -> new HashSet<>()).add(r.domain());
            WindowAggregate held = windows.get(w);
            if (held != null) {
                held.remove(r.domain());
            }
            return;
        }
        if (sent.getOrDefault(w, Set.of()).contains(r.domain())) {
            return;
        }
        windows.computeIfAbsent(w, k -> new WindowAggregate(k, config.maxDomains(), config.maxFailureDetails(),
                metrics::cut)).add(r);
    }

    private void closeDue(KafkaConsumer<String, byte[]> c, long now) {
        sent.keySet().removeIf(w -> w < windowOf(now) - window);
        if (windows.isEmpty() || windows.firstKey() + window + grace > now || !caughtUp(c)) {
            return;
        }
        int budget = DOMAINS_PER_PASS;
        for (Iterator<Map.Entry<Long, WindowAggregate>> it = windows.entrySet().iterator(); it.hasNext()
                && budget > 0; ) {
            WindowAggregate w = it.next().getValue();
            if (w.start() + window + grace > now) {
                break;
            }
            for (String domain : w.domainList()) {
                if (budget-- <= 0 || !running) {
                    return;
                }
                report(w, domain);
                w.remove(domain);
            }
            if (w.isEmpty()) {
                it.remove();
            }
        }
    }

    private boolean caughtUp(KafkaConsumer<String, byte[]> c) {
        Set<TopicPartition> assigned = c.assignment();
        Map<TopicPartition, Long> ends = c.endOffsets(assigned);
        return assigned.stream().allMatch(p -> c.position(p) >= ends.getOrDefault(p, 0L));
    }

    private void report(WindowAggregate w, String domain) {
        TlsReport.Built built;
        try {
            built = TlsReport.build(config.organizationName(), config.contactInfo().orElse(config.sender()),
                    ownName, domain, w.start(), w.start() + window, w.policies(domain));
        } catch (RuntimeException e) {
            LOG.errorf(e, "TLS-RPT report for %s not built", domain);
            metrics.report("failed");
            return;
        }
        Optional<List<URI>> rua = rua(domain);
        if (rua.isEmpty()) {
            metrics.report("no-rua");
        } else {
            for (URI uri : rua.get()) {
                String failure = send(built, uri);
                if (failure == null) {
                    LOG.infof("TLS-RPT report %s sent to %s", built.id(), uri.getScheme());
                    metrics.report("sent");
                } else {
                    LOG.warnf("TLS-RPT report %s not sent (%s): %s", built.id(), uri.getScheme(), failure);
                    metrics.report("failed");
                }
            }
        }
        try {
            KafkaAckedSend.send(markers, config.topic(), domain, SessionResult.sent(domain, w.start()).toJson(), null)
                    .toCompletableFuture().get(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
            sent.computeIfAbsent(w.start(), k -> new HashSet<>()).add(domain);
        } catch (Exception e) {
            LOG.warnf("TLS-RPT sent marker of %s not written (a restart may send the report again): %s", domain,
                    e.toString());
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private Optional<List<URI>> rua(String domain) {
        try {
            List<String> txt = dns.txt("_smtp._tls." + domain).toCompletionStage().toCompletableFuture()
                    .get(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return RuaRecord.parse(txt);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.debugf("TLS-RPT record of %s not found: %s", domain, e.toString());
            return Optional.empty();
        }
    }

    /** Null when the rua took the report, else why not. */
    private String send(TlsReport.Built built, URI uri) {
        long wait = config.sendTimeout().toMillis() + 1000;
        try {
            if (uri.getScheme().equalsIgnoreCase("https")) {
                return poster.post(uri, built.gzip()).toCompletionStage().toCompletableFuture()
                        .get(wait, TimeUnit.MILLISECONDS);
            }
            ReportMail.Composed m = ReportMail.compose(built, config.organizationName(), config.sender(),
                    uri.getSchemeSpecificPart(), ownName, ZonedDateTime.now(ZoneOffset.UTC));
            RecordHeaders headers = new RecordHeaders();
            headers.add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(m.envelope()));
            KafkaAckedSend.send(mail, outboundTopic, m.key(), m.message(), headers).toCompletableFuture()
                    .get(wait, TimeUnit.MILLISECONDS);
            return null;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return e.toString();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
