package dev.relay.delivery.dsn;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.dsn.DsnComposer;
import dev.relay.common.dsn.DsnMessage;
import dev.relay.common.dsn.DsnStatus;
import dev.relay.common.dsn.RecipientStatus;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import dev.relay.delivery.config.DeliveryConfig;
import dev.relay.delivery.messaging.KafkaAckedSend;
import dev.relay.delivery.transport.RecipientResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Bounces permanent failures: one RFC 3464 DSN per original record, covering its permanently failed recipients
 * that asked for one (NOTIFY), sent from {@code <>} to the envelope sender — never when the original sender is
 * {@code <>}. The DSN is published as a new record on the outbound topic this service consumes (routed to the
 * MX of the sender's domain; the configured smarthost and routes of this service apply as for any record), so
 * it is delivered, retried and bounced-never like any message.
 *
 * <p>The record goes through the {@code retry-out} emitter (same producer settings: acks=all, idempotence,
 * 16 MiB records) with the topic overridden per record; the injection point carries the same emitter
 * configuration as {@link dev.relay.delivery.retry.KafkaRetryPublisher}'s, which Quarkus requires for a shared
 * emitter.
 */
@ApplicationScoped
public class BounceNotifier {

    private static final Logger LOG = Logger.getLogger(BounceNotifier.class);

    @Inject
    @Channel("retry-out")
    @OnOverflow(value = OnOverflow.Strategy.BUFFER, bufferSize = 1024)
    Emitter<byte[]> records;

    private final DsnComposer composer;
    private final String topic;

    @Inject
    public BounceNotifier(DeliveryConfig config,
                          @ConfigProperty(name = "mp.messaging.incoming.outbound.topic", defaultValue = Topics.OUTBOUND)
                          String topic) {
        String name = config.heloName().filter(s -> !s.isBlank()).orElseGet(BounceNotifier::localHostName);
        this.composer = new DsnComposer(name, name, DsnComposer.DEFAULT_MAX_FULL_ORIGINAL, Clock.systemUTC());
        this.topic = topic;
    }

    /**
     * Publishes the DSN for the permanently failed recipients of {@code original}; completes when Kafka
     * acknowledged it, or at once when no DSN is due.
     */
    public CompletionStage<Void> publish(Envelope original, byte[] message, List<RecipientResult> failed) {
        Optional<Notice> notice;
        try {
            notice = notice(composer, original, message, failed);
        } catch (RuntimeException e) {
            // a bug here must not stall the partition: the bounced event still records the failure
            LOG.errorf(e, "message %s: composing the DSN failed", original.messageId());
            return CompletableFuture.completedFuture(null);
        }
        if (notice.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        Notice n = notice.get();
        LOG.infof("message %s: DSN %s for %d recipient(s) to the sender via %s", original.messageId(),
                n.envelope().messageId(), n.dsn().recipients().size(), n.envelope().route().hopKey());
        return send(n.key(), n.dsn().bytes(), n.envelope());
    }

    /** The routed DSN record: its envelope (with route), the message, the record key. */
    public record Notice(Envelope envelope, DsnMessage dsn) {
        public String key() {
            return envelope.messageId() + "/" + envelope.route().hopKey();
        }
    }

    /** Pure: the DSN due for these results, if any. */
    public static Optional<Notice> notice(DsnComposer composer, Envelope original, byte[] message,
                                          List<RecipientResult> results) {
        List<RecipientResult> failed = results.stream().filter(r -> r.status().isPermanent()).toList();
        if (failed.isEmpty() || original.nullSender()) {
            return Optional.empty();
        }
        if (!(AddressParser.parse(original.mailFrom(), true) instanceof ParsedAddress.Valid sender)) {
            LOG.warnf("message %s: no DSN, the sender address is not valid", original.messageId());
            return Optional.empty();
        }
        List<RecipientStatus> statuses = failed.stream().map(BounceNotifier::status).toList();
        return composer.compose(original, message, statuses).map(dsn -> new Notice(dsn.envelope()
                .forHop(Route.mx(sender.address().domainLower()), dsn.envelope().recipients()), dsn));
    }

    /**
     * With a remote reply: Status from its enhanced code (else 5.0.0), Remote-MTA and {@code Diagnostic-Code:
     * smtp; <reply>}. Without one (a failure decided here), the reason as {@code Diagnostic-Code: X-Relay; ...}.
     */
    static RecipientStatus status(RecipientResult r) {
        String status = DsnStatus.fromReply(r.detail(), '5');
        if (r.remote() != null) {
            return new RecipientStatus(r.recipient(), RecipientStatus.Action.FAILED, status, remoteHost(r.remote()),
                    "smtp", r.detail());
        }
        return new RecipientStatus(r.recipient(), RecipientStatus.Action.FAILED, status, null,
                r.detail() == null ? null : "X-Relay", r.detail());
    }

    /** {@code mx.example.org[192.0.2.1]:25} → {@code mx.example.org}; {@code [192.0.2.1]:25} → the address. */
    static String remoteHost(String remote) {
        int bracket = remote.indexOf('[');
        if (bracket > 0) {
            return remote.substring(0, bracket);
        }
        if (bracket == 0 && remote.indexOf(']') > 0) {
            return remote.substring(1, remote.indexOf(']'));
        }
        int colon = remote.lastIndexOf(':');
        return colon > 0 && remote.indexOf(':') == colon ? remote.substring(0, colon) : remote;
    }

    private CompletionStage<Void> send(String key, byte[] value, Envelope envelope) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        return KafkaAckedSend.send(records, topic, key, value, headers);
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
