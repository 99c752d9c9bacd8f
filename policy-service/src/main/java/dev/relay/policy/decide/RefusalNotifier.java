package dev.relay.policy.decide;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.dsn.DsnComposer;
import dev.relay.common.dsn.DsnMessage;
import dev.relay.common.dsn.RecipientStatus;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;
import dev.relay.common.rules.RelayRules;

import java.util.List;
import java.util.Optional;

/**
 * The DSN (RFC 3464) for recipients the policy refuses after the message was accepted: Action failed, Status
 * 5.7.1 (5.1.1 for a mailbox a local domain does not have), the deciding rule in the diagnostic, routed with the
 * engine's router to the sender's domain.
 *
 * <p>So that Relay produces no backscatter, a DSN goes only to a sender the relay can vouch for: an
 * authenticated identity sending as an address it may use (rule set sender grants; an identity refused as
 * {@code sender-not-owned} does not make the forged address a DSN target), or a client in the trusted networks at
 * acceptance ({@link Envelope#trustedNetwork()}). A sender address in a local domain vouches for nothing: anyone
 * can write it in MAIL FROM at the MX role. Mail from anyone else gets no DSN: its refusal is only an event, a
 * log line and the count {@code relay.policy.dsn.suppressed}. Never to the null sender, and never against the
 * recipients' NOTIFY.
 */
public final class RefusalNotifier {

    /** The SMTP reply the session would have given for the same refusal. */
    static final String REPLY = "554 5.7.1";
    /** The same for a recipient its local domain does not have. */
    static final String UNKNOWN_REPLY = "550 5.1.1";

    private final PolicyEngine engine;
    private final DsnComposer composer;

    public RefusalNotifier(PolicyEngine engine, DsnComposer composer) {
        this.engine = engine;
        this.composer = composer;
    }

    /**
     * @param envelope the envelope of the refused recipients
     * @param dsn      the notification
     * @param rules    the deciding rules of the reported recipients, distinct, comma separated
     */
    public record Notice(Envelope envelope, DsnMessage dsn, String rules) {
        /** The outbound record key, in the form the {@code route.Dispatcher} gives outbound records. */
        public String key() {
            return envelope.messageId() + "/" + envelope.route().hopKey();
        }
    }

    /**
     * Whether refusals in this decision go unreported because nobody vouched for the sender (the count of
     * suppressed DSNs): some recipients refused, a sender that is not {@code <>}, and no DSN allowed to it.
     */
    public boolean suppressed(Envelope original, PolicyDecision decision) {
        if (decision.refused().isEmpty() || original.nullSender()) {
            return false;
        }
        ParsedAddress parsed = AddressParser.parse(original.mailFrom(), original.smtputf8());
        return !(parsed instanceof ParsedAddress.Valid valid) || !vouched(original, valid.address());
    }

    /** An identity that may use the sender address, or (without identity) a client in the trusted networks. */
    private boolean vouched(Envelope original, MailAddress sender) {
        if (original.identity() != null) {
            return engine.rules().sender(original.identity(), sender).allowed();
        }
        return original.trustedNetwork();
    }

    public Optional<Notice> notice(Envelope original, byte[] message, PolicyDecision decision) {
        if (decision.refused().isEmpty() || original.nullSender()) {
            return Optional.empty();
        }
        if (!(AddressParser.parse(original.mailFrom(), original.smtputf8()) instanceof ParsedAddress.Valid valid)) {
            return Optional.empty();
        }
        MailAddress sender = valid.address();
        if (!vouched(original, sender)) {
            return Optional.empty();
        }
        List<RecipientStatus> statuses = decision.refused().stream()
                .filter(r -> r.recipient() != null)
                .map(r -> {
                    boolean unknown = RelayRules.UNKNOWN_RECIPIENT.equals(r.rule());
                    return new RecipientStatus(r.recipient(), RecipientStatus.Action.FAILED,
                            unknown ? "5.1.1" : "5.7.1", null, "smtp",
                            (unknown ? UNKNOWN_REPLY : REPLY) + " " + r.reason() + " (rule " + r.rule() + ")");
                })
                .toList();
        return composer.compose(original, message, statuses).map(dsn -> {
            Route route = engine.route(sender.domainLower());
            Envelope routed = dsn.envelope().forHop(route, dsn.envelope().recipients());
            String ruleNames = String.join(",", decision.refused().stream()
                    .filter(r -> dsn.recipients().contains(r.recipient())).map(PolicyDecision.Refusal::rule)
                    .distinct().toList());
            return new Notice(routed, dsn, ruleNames);
        });
    }
}
