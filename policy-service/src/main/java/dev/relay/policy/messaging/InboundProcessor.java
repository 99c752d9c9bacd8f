package dev.relay.policy.messaging;

import dev.relay.common.dsn.DsnComposer;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.event.RelayEvent;
import dev.relay.common.kafka.Topics;
import dev.relay.common.rules.RelayDecision;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.dsn.RefusalNotifier;
import dev.relay.policy.engine.PolicyDecision;
import dev.relay.policy.engine.PolicyEngine;
import dev.relay.policy.metrics.PolicyMetrics;
import dev.relay.policy.routing.Router;
import dev.relay.policy.rules.RuleStore;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Consumes {@code relay.inbound.v1}, decides authoritatively, and produces one {@code relay.outbound.v1} record
 * per next hop plus events, and for recipients refused after acceptance an RFC 3464 DSN to the sender when it
 * is one the relay can vouch for ({@link RefusalNotifier}), produced as an outbound record routed to the
 * sender's domain, with a {@code bounced} event naming the rule. The input record is acknowledged (so its offset may be committed) only after every
 * output record was acknowledged by Kafka; if producing fails, it is retried with back-off rather than dropped,
 * so a crash or an outage leads to reprocessing (duplicates carry the same message id), never to loss.
 */
@ApplicationScoped
public class InboundProcessor {

    private static final Logger LOG = Logger.getLogger(InboundProcessor.class);

    private final PolicyEngine engine;
    private final RefusalNotifier refusals;
    private final PolicyMetrics metrics;
    private final MutinyEmitter<byte[]> outbound;
    private final MutinyEmitter<byte[]> events;
    private final MutinyEmitter<byte[]> dlq;

    public InboundProcessor(RuleStore rules, PolicyConfig config, PolicyMetrics metrics,
                            @Channel("outbound") MutinyEmitter<byte[]> outbound,
                            @Channel("events") MutinyEmitter<byte[]> events,
                            @Channel("dlq") MutinyEmitter<byte[]> dlq) {
        // the rules in force (newest valid rule set in the rules topic); its routes, else the configured ones
        this.engine = new PolicyEngine(rules.holder(), new Router(config.routes(), config.smarthost(),
                config.routeTls()), config.routeTls());
        String reportingMta = config.dsn().reportingMta().filter(s -> !s.isBlank())
                .orElseGet(InboundProcessor::localHostName);
        this.refusals = new RefusalNotifier(engine, new DsnComposer(reportingMta, reportingMta,
                config.dsn().maxFullOriginal(), Clock.systemUTC()));
        this.metrics = metrics;
        this.outbound = outbound;
        this.events = events;
        this.dlq = dlq;
    }

    /** The engine deciding with the rules in force (shared with the admin API's dry run). */
    public PolicyEngine engine() {
        return engine;
    }

    @Incoming("inbound")
    public Uni<Void> process(Message<byte[]> message) {
        IncomingKafkaRecordMetadata<?, ?> meta = message.getMetadata(IncomingKafkaRecordMetadata.class).orElseThrow();
        Header header = meta.getHeaders().lastHeader(Topics.ENVELOPE_HEADER);
        Envelope envelope;
        try {
            envelope = EnvelopeCodec.decode(header == null ? null : header.value());
        } catch (IllegalArgumentException e) {
            return deadLetter(message, meta, e.getMessage());
        }
        Timer.Sample sample = metrics.start();
        PolicyDecision decision = engine.decide(envelope);
        List<Uni<Void>> sends = new ArrayList<>();
        byte[] outboundBytes = engine.outboundBytes(decision, message.getPayload()); // header hygiene (hygiene/)
        for (Map.Entry<Route, List<String>> hop : decision.hops().entrySet()) {
            Envelope out = envelope.forHop(hop.getKey(), hop.getValue());
            sends.add(send(outbound, envelope.messageId() + "/" + hop.getKey().hopKey(), outboundBytes, out));
            sends.add(event(RelayEvent.of("routed", envelope.messageId(), "policy", hop.getValue(),
                    ruleNames(decision, hop.getValue()), hop.getKey().hopKey())));
        }
        for (PolicyDecision.Refusal refusal : decision.refused()) {
            metrics.decision(RelayDecision.kind(refusal.rule()), "deny");
            sends.add(event(RelayEvent.of("rejected", envelope.messageId(), "policy", List.of(refusal.recipient()),
                    refusal.rule() + ": " + refusal.reason(), null)));
        }
        Optional<RefusalNotifier.Notice> notice = refusals.notice(envelope, message.getPayload(), decision);
        notice.ifPresent(n -> {
            sends.add(send(outbound, n.key(), n.dsn().bytes(), n.envelope()));
            sends.add(event(RelayEvent.of("bounced", envelope.messageId(), "policy", n.dsn().recipients(),
                    n.rules() + ": DSN " + n.envelope().messageId() + " to the sender", n.envelope().route().hopKey())));
        });
        decision.rules().values().forEach(rule -> metrics.decision(RelayDecision.kind(rule), "allow"));
        log(envelope, decision, notice);
        return Uni.join().all(sends).andFailFast().replaceWithVoid()
                .onFailure().invoke(e -> LOG.warnf("message %s: producing failed, retrying: %s",
                        envelope.messageId(), e.toString()))
                .onFailure().retry().withBackOff(Duration.ofMillis(500), Duration.ofSeconds(30)).indefinitely()
                .invoke(() -> metrics.processed(sample))
                .chain(() -> Uni.createFrom().completionStage(message.ack()));
    }

    private Uni<Void> send(MutinyEmitter<byte[]> emitter, String key, byte[] value, Envelope envelope) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        return Uni.createFrom().deferred(() -> emitter.sendMessage(Message.of(value).addMetadata(
                OutgoingKafkaRecordMetadata.<String>builder().withKey(key).withHeaders(headers).build())));
    }

    private Uni<Void> event(RelayEvent event) {
        return Uni.createFrom().deferred(() -> events.sendMessage(Message.of(event.toJson()).addMetadata(
                OutgoingKafkaRecordMetadata.<String>builder().withKey(event.messageId()).build())));
    }

    /** A record we cannot decode: kept on the DLQ with its headers and the reason, counted, and skipped. */
    private Uni<Void> deadLetter(Message<byte[]> message, IncomingKafkaRecordMetadata<?, ?> meta, String reason) {
        metrics.dlq();
        LOG.errorf("undecodable record %s-%d@%d sent to the DLQ: %s", meta.getTopic(), meta.getPartition(),
                meta.getOffset(), reason);
        RecordHeaders headers = new RecordHeaders(meta.getHeaders().toArray());
        headers.add("relay-dlq-reason", reason.getBytes(StandardCharsets.UTF_8));
        headers.add("relay-dlq-source", (meta.getTopic() + "-" + meta.getPartition() + "@" + meta.getOffset())
                .getBytes(StandardCharsets.UTF_8));
        Object key = meta.getKey();
        return Uni.createFrom().deferred(() -> dlq.sendMessage(Message.of(message.getPayload()).addMetadata(
                        OutgoingKafkaRecordMetadata.builder().withKey(key).withHeaders(headers).build())))
                .onFailure().retry().withBackOff(Duration.ofMillis(500), Duration.ofSeconds(30)).indefinitely()
                .chain(() -> Uni.createFrom().completionStage(message.ack()));
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static String ruleNames(PolicyDecision decision, List<String> recipients) {
        return String.join(",", recipients.stream().map(r -> decision.rules().get(r)).distinct().toList());
    }

    private static void log(Envelope envelope, PolicyDecision decision, Optional<RefusalNotifier.Notice> notice) {
        MDC.put("messageId", envelope.messageId());
        try {
            LOG.infof("decided %s: %d hop(s) %s, refused %s%s", envelope.messageId(), decision.hops().size(),
                    decision.hops().keySet().stream().map(Route::hopKey).toList(),
                    decision.refused().stream().map(r -> r.recipient() + "(" + r.rule() + ")").toList(),
                    notice.map(n -> ", DSN " + n.envelope().messageId() + " via " + n.envelope().route().hopKey())
                            .orElse(""));
        } finally {
            MDC.remove("messageId");
        }
    }
}
