package dev.relay.ingress.smtp.session;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Dsn;
import dev.relay.common.rules.Exceeded;
import dev.relay.common.rules.RateLimits;
import dev.relay.common.rules.Subject;
import dev.relay.common.rules.RelayDecision;
import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.EnvelopeParameters;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

import java.util.Optional;

/**
 * MAIL and RCPT: the envelope of a transaction, and the relay decision taken on it in the dialogue (sender
 * ownership, the rule engine's verdict per recipient, the rule set's rate limits). The order of the checks here is
 * the order clients see; it is kept as one unit so that it can be compared with the policy service's.
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
        String from = "";
        if (mail.path().isEmpty() && !s.settings.rules().nullSender(s.identity).allowed()) {
            return s.error(Replies.NULL_SENDER_NOT_ALLOWED);
        }
        if (!mail.path().isEmpty()) {
            ParsedAddress parsed = AddressParser.parse(mail.path(), params.value().smtputf8());
            if (parsed instanceof ParsedAddress.Invalid invalid) {
                return s.error(addressRefusal(invalid));
            }
            MailAddress sender = ((ParsedAddress.Valid) parsed).address();
            if (s.identity != null && !s.settings.rules().mayUseSender(s.identity, sender)) {
                return s.error(Replies.SENDER_NOT_OWNED);
            }
            from = sender.toString();
        }
        Optional<Exceeded> limited = rateLimit(from, 1, 0);
        if (limited.isPresent()) {
            return s.send(Replies.messageRateLimited(limited.get().describe()));
        }
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
        if (transaction.recipients.size() >= s.maxRecipients()) {
            return s.send(Replies.TOO_MANY_RECIPIENTS);
        }
        ParsedAddress parsed = AddressParser.parse(rcpt.path(), transaction.params.smtputf8());
        if (parsed instanceof ParsedAddress.Invalid invalid) {
            return s.error(addressRefusal(invalid));
        }
        MailAddress recipient = ((ParsedAddress.Valid) parsed).address();
        RelayDecision decision = s.settings.rules().decide(s.clientAddress, s.identity, recipient);
        if (decision instanceof RelayDecision.Deny deny) {
            return s.error(Replies.recipientRefused(deny));
        }
        Optional<Exceeded> limited = rateLimit(transaction.mailFrom, 0, transaction.recipients.size() + 1);
        if (limited.isPresent()) {
            return s.send(Replies.recipientRateLimited(limited.get().describe()));
        }
        transaction.recipients.add(recipient);
        if (params.value() != null) {
            transaction.dsnRecipients.put(recipient.toString(), params.value());
        }
        return s.send(Replies.RECIPIENT_OK);
    }

    /**
     * The rule set's cluster-wide rate limits against the usage the policy service counted: whether this
     * message (at MAIL) or this many recipients (at RCPT) still fit. The policy checks again after acceptance
     * and holds what no longer fits, so a stale view here costs a hold, never a lost or bounced message.
     */
    private Optional<Exceeded> rateLimit(String mailFrom, int messages, int recipients) {
        RateLimits limits = s.settings.rules().rateLimits();
        if (limits.isEmpty()) {
            return Optional.empty();
        }
        RateLimitGate gate = s.settings.rateLimits();
        return limits.admit(Subject.of(s.identity, mailFrom, s.clientAddress), gate.usage(), gate.now(), messages,
                recipients);
    }

    private static Reply addressRefusal(ParsedAddress.Invalid invalid) {
        return invalid.policy() ? Replies.addressRefused(invalid.reason()) : Replies.badAddress(invalid.reason());
    }
}
