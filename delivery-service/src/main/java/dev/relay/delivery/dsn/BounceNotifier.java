package dev.relay.delivery.dsn;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.dsn.DsnComposer;
import dev.relay.common.dsn.DsnMessage;
import dev.relay.common.dsn.RecipientStatus;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import dev.relay.common.net.HostName;
import dev.relay.delivery.config.DeliveryConfig;
import dev.relay.delivery.kafka.KafkaAckedSend;
import dev.relay.delivery.metrics.DeliveryMetrics;
import dev.relay.delivery.outcome.DsnReport;
import dev.relay.delivery.outcome.RecipientResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Tells the sender: at most one RFC 3464 DSN per delivery attempt of a record, covering its permanently failed
 * (5yz, suppressed ones included), expired (retries gave up after max-age), — when delay notices are on —
 * delayed, and (NOTIFY=SUCCESS, see {@code retry.AttemptPlan}) delivered or relayed recipients that asked for it
 * (NOTIFY), sent from {@code <>} to the envelope sender — never when the original sender is {@code <>}, and
 * never to a sender nobody vouched for: only when the message was submitted by an authenticated identity or from
 * a trusted network ({@link Envelope#vouchedSender()}). Mail received at the MX role from anyone else carries a
 * reverse path anyone could have forged; bouncing to it is backscatter. Its failures are recorded by the
 * {@code bounced}/{@code expired} events, a log line and {@code relay.delivery.dsn.suppressed}, and dropped. The
 * returned original is capped ({@link DsnComposer#DEFAULT_MAX_FULL_ORIGINAL}, headers only beyond).
 *
 * <p>The DSN is published as a new record on the outbound topic this service consumes (routed to the MX of the
 * sender's domain; the configured smarthost and routes of this service apply as for any record), so
 * it is delivered, retried and bounced-never like any message.
 *
 * <p>The record goes through the {@code mail-out} emitter (acks=all, idempotence, 16 MiB records; its topic is
 * the outbound topic); the injection point carries the same emitter configuration as
 * {@code retry.KafkaRetryPublisher}'s, which Quarkus requires for a shared emitter.
 */
@ApplicationScoped
public class BounceNotifier {

    private static final Logger LOG = Logger.getLogger(BounceNotifier.class);

    @Inject
    @Channel("mail-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> records;

    private final DsnComposer composer;
    private final DeliveryMetrics metrics;
    private final String topic;

    @Inject
    public BounceNotifier(DeliveryConfig config, DeliveryMetrics metrics,
                          @ConfigProperty(name = "mp.messaging.incoming.outbound.topic", defaultValue = Topics.OUTBOUND)
                          String topic) {
        this.metrics = metrics;
        String name = HostName.of(config.heloName());
        this.composer = new DsnComposer(name, name, DsnComposer.DEFAULT_MAX_FULL_ORIGINAL, Clock.systemUTC());
        this.topic = topic;
    }

    /**
     * Publishes the DSN for the permanently failed recipients of {@code original}; completes when Kafka
     * acknowledged it, or at once when no DSN is due.
     */
    public CompletionStage<Void> publish(Envelope original, byte[] message, List<RecipientResult> failed) {
        return publish(original, message, failed.stream().filter(r -> r.status().isPermanent())
                .map(DsnReport::failed).toList(), null);
    }

    /**
     * Publishes one DSN reporting on {@code statuses} (failed, expired, delayed; NOTIFY decides who is
     * reported); completes when Kafka acknowledged it, or at once when no DSN is due.
     *
     * @param willRetryUntil when delayed recipients will be given up on, null if unknown
     */
    public CompletionStage<Void> publish(Envelope original, byte[] message, List<RecipientStatus> statuses,
                                         Instant willRetryUntil) {
        if (statuses.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        if (!original.nullSender() && !original.vouchedSender()) {
            LOG.infof("message %s: no DSN for %d recipient(s): the sender was neither authenticated nor in a "
                    + "trusted network (no backscatter)", original.messageId(), statuses.size());
            metrics.dsnSuppressed();
            return CompletableFuture.completedFuture(null);
        }
        Optional<Notice> notice;
        try {
            notice = notice(composer, original, message, statuses, willRetryUntil);
        } catch (RuntimeException e) {
            // a bug here must not stall the partition: the bounced/expired event still records the failure
            LOG.errorf(e, "message %s: composing the DSN failed", original.messageId());
            return CompletableFuture.completedFuture(null);
        }
        if (notice.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Notice n = notice.get();
        List<String> kinds = kinds(statuses, n.dsn().recipients());
        List<String> successes = successes(statuses, n.dsn().recipients());
        List<String> all = new java.util.ArrayList<>(kinds);
        all.addAll(successes);
        LOG.infof("message %s: DSN %s (%s) for %d recipient(s) to the sender via %s", original.messageId(),
                n.envelope().messageId(), String.join(",", all), n.dsn().recipients().size(),
                n.envelope().route().hopKey());
        return send(n.key(), n.dsn().bytes(), n.envelope())
                .thenRun(() -> {
                    kinds.forEach(metrics::dsnSent);
                    successes.forEach(metrics::successDsnSent);
                });
    }

    /** failed (5yz), expired (given up after max-age) and delayed, as far as the DSN reports them. */
    static List<String> kinds(List<RecipientStatus> statuses, List<String> reported) {
        return statuses.stream().filter(s -> reported.contains(s.recipient()) && !s.action().success())
                .map(s -> s.action() == RecipientStatus.Action.DELAYED ? DeliveryMetrics.DSN_DELAYED
                        : s.status().startsWith("4") ? DeliveryMetrics.DSN_EXPIRED : DeliveryMetrics.DSN_FAILED)
                .distinct().toList();
    }

    /** delivered and relayed (NOTIFY=SUCCESS), as far as the DSN reports them. */
    static List<String> successes(List<RecipientStatus> statuses, List<String> reported) {
        return statuses.stream().filter(s -> reported.contains(s.recipient()) && s.action().success())
                .map(s -> s.action() == RecipientStatus.Action.DELIVERED ? DeliveryMetrics.SUCCESS_DELIVERED
                        : DeliveryMetrics.SUCCESS_RELAYED)
                .distinct().toList();
    }

    /** The routed DSN record: its envelope (with route), the message, the record key. */
    public record Notice(Envelope envelope, DsnMessage dsn) {
        public String key() {
            return envelope.messageId() + "/" + envelope.route().hopKey();
        }
    }

    /** Pure: the DSN due for the permanent failures among these results, if any. */
    public static Optional<Notice> notice(DsnComposer composer, Envelope original, byte[] message,
                                          List<RecipientResult> results) {
        return notice(composer, original, message, results.stream().filter(r -> r.status().isPermanent())
                .map(DsnReport::failed).toList(), null);
    }

    /** Pure: the DSN reporting on these statuses (as far as NOTIFY asks for it), if any. */
    public static Optional<Notice> notice(DsnComposer composer, Envelope original, byte[] message,
                                          List<RecipientStatus> statuses, Instant willRetryUntil) {
        if (statuses.isEmpty() || original.nullSender() || !original.vouchedSender()) {
            return Optional.empty();
        }
        if (!(AddressParser.parse(original.mailFrom(), true) instanceof ParsedAddress.Valid sender)) {
            LOG.warnf("message %s: no DSN, the sender address is not valid", original.messageId());
            return Optional.empty();
        }
        Route back = returnRoute(original, sender.address().domainLower());
        return composer.compose(original, message, statuses, willRetryUntil).map(dsn -> new Notice(dsn.envelope()
                .forHop(back, dsn.envelope().recipients()), dsn));
    }

    /**
     * The policy's route for the sender's domain when the record carries it (LOCAL for a sender in a local domain:
     * its MX is Relay itself, and an MX with our own name bounces 5.4.6), else the domain's MX (records from a
     * policy service older than the return route).
     */
    static Route returnRoute(Envelope original, String senderDomain) {
        Route back = original.returnRoute();
        return back != null && senderDomain.equalsIgnoreCase(back.domain()) ? back : Route.mx(senderDomain);
    }

    private CompletionStage<Void> send(String key, byte[] value, Envelope envelope) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        return KafkaAckedSend.send(records, topic, key, value, headers);
    }
}
