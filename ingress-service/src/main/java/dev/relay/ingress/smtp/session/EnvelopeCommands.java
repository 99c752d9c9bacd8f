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
            return mailRefusal(checked.failure());
        }
        String from = checked.value() == null ? "" : checked.value().toString();
        s.transaction = new Transaction(from, params.value());
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
            return rcptRefusal(checked.failure());
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

    /** The reply to a sender check that failed (5xx counted as an error; a rate limit 4xx). */
    private Action mailRefusal(RelayChecks.Failure failure) {
        return switch (failure.step()) {
            case NULL_SENDER -> s.error(Replies.NULL_SENDER_NOT_ALLOWED);
            case SENDER_SYNTAX -> s.error(addressRefusal(((RelayChecks.Failure.BadAddress) failure).invalid()));
            case SENDER_OWNED -> s.error(Replies.SENDER_NOT_OWNED);
            case MESSAGE_RATE -> s.send(Replies.messageRateLimited(
                    ((RelayChecks.Failure.RateLimited) failure).exceeded().describe()));
            default -> throw new IllegalStateException("not a session check at MAIL: " + failure);
        };
    }

    /** The reply to a recipient check that failed (count and rate 4xx; address and decision 5xx, errors). */
    private Action rcptRefusal(RelayChecks.Failure failure) {
        return switch (failure.step()) {
            case RECIPIENT_COUNT -> s.send(Replies.TOO_MANY_RECIPIENTS);
            case RECIPIENT_SYNTAX -> s.error(addressRefusal(((RelayChecks.Failure.BadAddress) failure).invalid()));
            case RECIPIENT_DECISION -> s.error(Replies.recipientRefused(((RelayChecks.Failure.Denied) failure).deny()));
            case RECIPIENT_RATE -> s.send(Replies.recipientRateLimited(
                    ((RelayChecks.Failure.RateLimited) failure).exceeded().describe()));
            default -> throw new IllegalStateException("not a session check at RCPT: " + failure);
        };
    }

    private static Reply addressRefusal(ParsedAddress.Invalid invalid) {
        return invalid.policy() ? Replies.addressRefused(invalid.reason()) : Replies.badAddress(invalid.reason());
    }
}
