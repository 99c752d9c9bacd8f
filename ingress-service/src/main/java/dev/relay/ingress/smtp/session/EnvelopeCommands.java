package dev.relay.ingress.smtp.session;

import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Dsn;
import dev.relay.common.rules.RelayChecks;
import dev.relay.common.rules.RelayRules;
import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.EnvelopeParameters;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

import java.util.List;
import java.util.Optional;

/**
 * MAIL and RCPT: the envelope of a transaction, and the relay decision taken on it in the dialogue (sender
 * ownership, the rule engine's verdict per recipient, the rule set's rate limits). The checks and their order are
 * {@link RelayChecks}' (stage SESSION), shared with the policy service; this class only parses the command's
 * parameters and turns each failure into the reply clients see.
 */
final class EnvelopeCommands {

    private final SessionState s;

    EnvelopeCommands(SessionState s) {
        this.s = s;
    }

    Action mail(Command.Mail mail) {
        if (s.transaction != null) {
            return s.error(Replies.NESTED_MAIL);
        }
        EnvelopeParameters.Parsed<EnvelopeParameters.Mail> params =
                EnvelopeParameters.mail(mail.params(), s.maxMessageSize());
        if (params.refusal() != null) {
            return s.error(params.refusal());
        }
        RelayChecks.Outcome<MailAddress> checked = RelayChecks.sender(RelayChecks.Stage.SESSION,
                context(params.value().smtputf8()), mail.path(), null, -1, rateView());
        if (!checked.passed()) {
            return mailRefusal(checked.failure(), mail.path());
        }
        String from = checked.value() == null ? "" : checked.value().toString();
        s.transaction = new Transaction(from, params.value());
        // the queue id from the start of the transaction: its refusals and its message share one id in the events
        s.transaction.messageId = QueueIds.next();
        return s.send(Replies.SENDER_OK);
    }

    Action rcpt(Command.Rcpt rcpt) {
        Transaction transaction = s.transaction;
        if (transaction == null) {
            return s.error(Replies.NEED_MAIL);
        }
        EnvelopeParameters.Parsed<Dsn.Recipient> params = EnvelopeParameters.rcpt(rcpt.params());
        if (params.refusal() != null) {
            return s.error(params.refusal());
        }
        RelayChecks.Outcome<RelayChecks.Allowed> checked = RelayChecks.recipient(RelayChecks.Stage.SESSION,
                context(transaction.params.smtputf8()), transaction.mailFrom, rcpt.path(),
                transaction.recipients.size(), Optional.of(new RelayRules.Limit(s.maxRecipients(), SESSION_LIMIT)),
                rateView());
        if (!checked.passed()) {
            return rcptRefusal(checked.failure(), rcpt.path());
        }
        MailAddress recipient = checked.value().address();
        transaction.recipients.add(recipient);
        if (params.value() != null) {
            transaction.dsnRecipients.put(recipient.toString(), params.value());
        }
        return s.send(Replies.RECIPIENT_OK);
    }

    /** The name of the session's recipient limit (never shown: the session answers with its own reply). */
    private static final String SESSION_LIMIT = "session.maxRecipients";

    private RelayChecks.Context context(boolean smtputf8) {
        return new RelayChecks.Context(s.settings.rules(), s.clientAddress, s.identity, smtputf8);
    }

    /**
     * The cluster-wide usage the policy service counted, to check the rule set's rate limits against: whether
     * this message (at MAIL) or this many recipients (at RCPT) still fit. The policy checks again after
     * acceptance and holds what no longer fits, so a stale view here costs a hold, never a lost or bounced message.
     */
    private RelayChecks.RateView rateView() {
        RateLimitGate gate = s.settings.rateLimits();
        return new RelayChecks.RateView(gate.usage(), gate.now());
    }

    /**
     * The reply to a sender check that failed (5xx counted as an error; a rate limit 4xx), reported as a refusal
     * with the sender as the client gave it.
     */
    private Action mailRefusal(RelayChecks.Failure failure, String sender) {
        Reply reply = switch (failure.step()) {
            case NULL_SENDER -> Replies.NULL_SENDER_NOT_ALLOWED;
            case SENDER_SYNTAX -> addressRefusal(((RelayChecks.Failure.BadAddress) failure).invalid());
            case SENDER_OWNED -> Replies.SENDER_NOT_OWNED;
            case MESSAGE_RATE -> Replies.messageRateLimited(
                    ((RelayChecks.Failure.RateLimited) failure).exceeded().describe());
            default -> throw new IllegalStateException("not a session check at MAIL: " + failure);
        };
        s.refused(reply, failure.rule(), sender, null);
        return failure.step() == RelayChecks.Step.MESSAGE_RATE ? s.send(reply) : s.error(reply);
    }

    /**
     * The reply to a recipient check that failed (count and rate 4xx; address and decision 5xx, errors), reported
     * as a refusal of that recipient.
     */
    private Action rcptRefusal(RelayChecks.Failure failure, String recipient) {
        Reply reply = switch (failure.step()) {
            case RECIPIENT_COUNT -> Replies.TOO_MANY_RECIPIENTS;
            case RECIPIENT_SYNTAX -> addressRefusal(((RelayChecks.Failure.BadAddress) failure).invalid());
            case RECIPIENT_DECISION -> Replies.recipientRefused(((RelayChecks.Failure.Denied) failure).deny());
            case RECIPIENT_RATE -> Replies.recipientRateLimited(
                    ((RelayChecks.Failure.RateLimited) failure).exceeded().describe());
            default -> throw new IllegalStateException("not a session check at RCPT: " + failure);
        };
        s.refused(reply, failure.rule(), null, List.of(recipient));
        boolean temporary = failure.step() == RelayChecks.Step.RECIPIENT_COUNT
                || failure.step() == RelayChecks.Step.RECIPIENT_RATE;
        return temporary ? s.send(reply) : s.error(reply);
    }

    private static Reply addressRefusal(ParsedAddress.Invalid invalid) {
        return invalid.policy() ? Replies.addressRefused(invalid.reason()) : Replies.badAddress(invalid.reason());
    }
}
