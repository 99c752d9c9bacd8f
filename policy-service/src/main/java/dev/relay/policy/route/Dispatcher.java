package dev.relay.policy.route;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.event.RelayEvent;
import dev.relay.common.kafka.DueTimeConsumer;
import dev.relay.common.kafka.Topics;
import dev.relay.common.rules.Exceeded;
import dev.relay.common.rules.RelayDecision;
import dev.relay.policy.config.PolicyConfig;
import dev.relay.policy.config.PolicyMetrics;
import dev.relay.policy.decide.PolicyDecision;
import dev.relay.policy.decide.PolicyEngine;
import dev.relay.policy.decide.RefusalNotifier;
import dev.relay.policy.dkim.DkimStep;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides one accepted message authoritatively ({@link PolicyEngine}) and acts on the decision: produces one
 * {@code relay.outbound.v1} record per next hop plus events, and for recipients refused after acceptance an
 * RFC 3464 DSN to the sender when it is one the relay can vouch for ({@link RefusalNotifier}), produced as an
 * outbound record routed to the sender's domain, with a {@code bounced} event naming the rule. A message that
 * would exceed a rate limit ({@link RateLimiter}) is held on the held topic instead and routed when the window
 * allows. Called by both consumers (the inbound topic's and the held topic's, in {@code consume}); it knows
 * neither, and completes only when every output record was acknowledged by Kafka: if producing fails, it is
 * retried with back-off rather than dropped, so a crash or an outage leads to reprocessing (duplicates carry the
 * same message id), never to loss.
 */
@ApplicationScoped
public class Dispatcher {

    private static final Logger LOG = Logger.getLogger(Dispatcher.class);
    /** On held records: the name of the rate limit that held the message. */
    public static final String HELD_LIMIT_HEADER = "relay-held-limit";

    private final PolicyEngine engine;
    private final RefusalNotifier refusals;
    private final PolicyMetrics metrics;
    private final MutinyEmitter<byte[]> outbound;
    private final MutinyEmitter<byte[]> events;
    private final MutinyEmitter<byte[]> held;
    private final RateLimiter limiter;
    private final PolicyConfig.LimitSettings limitSettings;
    private final Clock clock;
    private final DkimStep dkim;

    public Dispatcher(PolicyEngine engine, RefusalNotifier refusals, PolicyConfig config, PolicyMetrics metrics,
                      RateLimiter limiter, Clock clock, DkimStep dkim,
                      @Channel("outbound") MutinyEmitter<byte[]> outbound,
                      @Channel("events") MutinyEmitter<byte[]> events,
                      @Channel("held") MutinyEmitter<byte[]> held) {
        this.engine = engine;
        this.refusals = refusals;
        this.metrics = metrics;
        this.outbound = outbound;
        this.events = events;
        this.held = held;
        this.limiter = limiter;
        this.limitSettings = config.limits();
        this.clock = clock;
        this.dkim = dkim;
    }

    /**
     * Decides one message and routes it, or — when routing it now would exceed a rate limit — holds it on the
     * held topic until the window allows ({@code consume.HeldReleaser} calls this again with {@code released} true).
     * Completes when every output record was acknowledged by Kafka; the caller commits its input only then.
     */
    public Uni<Void> handle(Envelope envelope, byte[] payload, boolean released) {
        Timer.Sample sample = metrics.start();
        PolicyDecision decision = engine.decide(envelope, payload);
        // DKIM first: a message whose signing rule cannot sign now is held before it counts against a rate limit
        DkimStep.Plan plan = decision.hops().isEmpty() ? new DkimStep.Plan.Unsigned(null)
                : dkim.plan(decision.dkim(), envelope, payload);
        if (plan instanceof DkimStep.Plan.Unusable unusable) {
            return hold(envelope, payload, new Held(DkimStep.HOLD_REASON, unusable.rule(), unusable.reason()),
                    released);
        }
        RateLimiter.Admission admission = limiter.admit(envelope, decision.rules().size());
        if (admission instanceof RateLimiter.Admission.Refused refused) {
            return hold(envelope, payload, Held.of(refused.exceeded()), released);
        }
        List<Uni<Void>> sends = new ArrayList<>();
        sends.add(limiter.publish(((RateLimiter.Admission.Admitted) admission).slots()));
        // header hygiene (HeaderEditor) on what goes out; a held message keeps its bytes as received until then
        byte[] outboundBytes = engine.outboundBytes(decision, payload);
        List<String> signatures = List.of();
        if (plan instanceof DkimStep.Plan.Sign sign) {
            // signed once, here, after header hygiene; the signed bytes then travel unchanged
            Optional<DkimStep.Signed> signed = dkim.sign(sign, envelope, outboundBytes);
            if (signed.isEmpty()) {
                // the key refused to sign (rare: it was loaded and checked): held, counted again on release
                return Uni.join().all(List.of(sends.get(0), hold(envelope, payload, new Held(DkimStep.HOLD_REASON,
                        sign.rule(), "a key of " + sign.names() + " could not sign"), released)))
                        .andFailFast().replaceWithVoid();
            }
            outboundBytes = signed.get().message();
            signatures = signed.get().names();
        }
        Route returnRoute = engine.returnRoute(envelope);
        for (Map.Entry<Route, List<String>> hop : decision.hops().entrySet()) {
            Envelope out = envelope.forHop(hop.getKey(), hop.getValue()).withReturnRoute(returnRoute);
            sends.add(send(outbound, envelope.messageId() + "/" + hop.getKey().hopKey(), outboundBytes, out));
            sends.add(event(RelayEvent.of("routed", envelope.messageId(), "policy", hop.getValue(),
                    ruleNames(decision, hop.getValue()), hop.getKey().hopKey()).withDkim(signatures)));
        }
        for (PolicyDecision.Refusal refusal : decision.refused()) {
            metrics.decision(RelayDecision.kind(refusal.rule()), "deny");
            sends.add(event(RelayEvent.of("rejected", envelope.messageId(), "policy", List.of(refusal.recipient()),
                    refusal.rule() + ": " + refusal.reason(), null)));
        }
        Optional<RefusalNotifier.Notice> notice = refusals.notice(envelope, payload, decision);
        if (notice.isEmpty() && refusals.suppressed(envelope, decision)) {
            metrics.dsnSuppressed(); // no backscatter: the rejected events above are the only record
        }
        notice.ifPresent(n -> {
            sends.add(send(outbound, n.key(), n.dsn().bytes(), n.envelope()));
            sends.add(event(RelayEvent.of("bounced", envelope.messageId(), "policy", n.dsn().recipients(),
                    n.rules() + ": DSN " + n.envelope().messageId() + " to the sender", n.envelope().route().hopKey())));
        });
        decision.rules().values().forEach(rule -> metrics.decision(RelayDecision.kind(rule), "allow"));
        if (released) {
            metrics.released();
        }
        log(envelope, decision, notice);
        return retried(envelope, Uni.join().all(sends).andFailFast().replaceWithVoid())
                .invoke(() -> metrics.processed(sample));
    }

    /**
     * Why a message is held: a rate limit ({@code limit} its name) or a signing rule that cannot sign
     * ({@code limit} {@value DkimStep#HOLD_REASON}).
     *
     * @param limit    bounded name for the metric and the held record's header
     * @param rule     the rule that holds it, for the event
     * @param describe what is wrong, for the event and the log
     */
    private record Held(String limit, String rule, String describe) {
        static Held of(Exceeded exceeded) {
            return new Held(exceeded.limit(), exceeded.rule(), exceeded.describe());
        }
    }

    /**
     * Parks the message, bytes and envelope unchanged, on the held topic, due after the re-check delay. The
     * first hold emits a {@code held} event naming the limit; re-checks that still do not fit only re-park it.
     */
    private Uni<Void> hold(Envelope envelope, byte[] payload, Held exceeded, boolean again) {
        Instant due = clock.instant().plus(limitSettings.recheck());
        RecordHeaders headers = new RecordHeaders();
        headers.add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        headers.add(DueTimeConsumer.DUE_AT_HEADER, DueTimeConsumer.dueAtValue(due));
        headers.add(HELD_LIMIT_HEADER, exceeded.limit().getBytes(StandardCharsets.UTF_8));
        List<Uni<Void>> sends = new ArrayList<>();
        sends.add(Uni.createFrom().deferred(() -> held.sendMessage(Message.of(payload).addMetadata(
                OutgoingKafkaRecordMetadata.<String>builder().withKey(envelope.messageId()).withHeaders(headers)
                        .build()))));
        if (!again) {
            metrics.held(exceeded.limit());
            sends.add(event(RelayEvent.of("held", envelope.messageId(), "policy", envelope.recipients(),
                    exceeded.rule() + ": " + exceeded.describe(), null)));
        }
        MDC.put("messageId", envelope.messageId());
        try {
            LOG.infof("%s %s: %s; re-checked at %s", again ? "still holding" : "holding", envelope.messageId(),
                    exceeded.describe(), due);
        } finally {
            MDC.remove("messageId");
        }
        return retried(envelope, Uni.join().all(sends).andFailFast().replaceWithVoid());
    }

    /** Producing is retried with back-off rather than given up: the input stays uncommitted meanwhile. */
    private static Uni<Void> retried(Envelope envelope, Uni<Void> sends) {
        return sends.onFailure().invoke(e -> LOG.warnf("message %s: producing failed, retrying: %s",
                        envelope.messageId(), e.toString()))
                .onFailure().retry().withBackOff(Duration.ofMillis(500), Duration.ofSeconds(30)).indefinitely();
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
