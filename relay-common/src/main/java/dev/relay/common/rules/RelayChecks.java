package dev.relay.common.rules;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.HeaderFrom;
import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Identity;

import java.time.Instant;
import java.util.Optional;

/**
 * The one order of the checks around the rule engine, used by the ingress in the SMTP dialogue ({@link
 * Stage#SESSION}: per command, MAIL then each RCPT) and by the policy service after acceptance ({@link
 * Stage#POLICY}: the whole envelope, the authority). Each caller turns a {@link Failure} into its own answer
 * (an SMTP reply; a refusal with rule and reason); the checks and their order live only here.
 *
 * <p>Sender ({@link #sender}): (1) null sender, (2) header {@code From:} binding, (3) sender syntax, (4) sender
 * ownership, (5) the rule set's message size, (6) the message rate. Recipient ({@link #recipient}): recipient
 * count, syntax, the engine's decision, recipient rate. Each is a {@link Step}, named in the {@link Failure}.
 *
 * <p>Where the two stages differ, on purpose (each one is a {@link Stage} property or an argument, and tested):
 * <ol>
 *   <li><b>Header From</b> (2) is checked only when the message bytes are given: the policy has them, the session
 *       at MAIL does not (and the policy's dry run passes none).</li>
 *   <li><b>Sender syntax</b> (3): the session parses every non-null sender; the policy only an authenticated
 *       identity's (the ingress already refused an unparsable sender; unauthenticated mail has no ownership to
 *       check) — {@link Stage#parsesEverySender}.</li>
 *   <li><b>Message size</b> (5): only where the size is known ({@code size >= 0}): the policy, against the rule
 *       set's limit alone, permanently. The session checks size earlier and elsewhere: the {@code SIZE=}
 *       parameter at MAIL (before any check here) and the end of DATA, against the lower of its configured
 *       limit and the rule set's.</li>
 *   <li><b>Rates</b> (6, and per recipient): the session asks with a {@link RateView} at MAIL (one message) and
 *       at each RCPT (the recipients so far plus this one, no message) and answers 4xx in the dialogue; the policy
 *       passes none here and checks the whole message (one message, its allowed recipients) after deciding, in
 *       its rate limiter that also counts, and holds the message instead of refusing it.</li>
 *   <li><b>Recipient count position</b>: the session refuses a recipient beyond the limit before looking at it
 *       (so a bad address beyond the limit gets the count's reply); the policy first parses and decides, and
 *       counts only recipients the engine allows — {@link Stage#countsFirst}.</li>
 *   <li><b>Recipient limit</b>: the session's is the lower of its configured limit and the rule set's; the
 *       policy's the rule set's alone (none when the set has none). The caller passes it.</li>
 *   <li><b>Temporary or permanent</b>: the session answers a full recipient count and a rate limit with 4xx
 *       (the client may try again, in another transaction); the policy refuses a recipient beyond the count
 *       permanently (a DSN). Which one is the caller's mapping; {@link Failure#temporary} says what the session
 *       does. Noted, not changed: a recipient the session would have deferred can be bounced by the policy only
 *       when the rule set changed in between, since the session applies the same rule-set limit.</li>
 * </ol>
 * Pure: no I/O, no clock (the caller gives the rate view's time).
 */
public final class RelayChecks {

    private RelayChecks() {
    }

    /** Where the checks run. */
    public enum Stage {
        /** The ingress, in the SMTP dialogue, one command at a time. */
        SESSION(true, true),
        /** The policy service, on the whole accepted envelope. */
        POLICY(false, false);

        private final boolean parsesEverySender;
        private final boolean countsFirst;

        Stage(boolean parsesEverySender, boolean countsFirst) {
            this.parsesEverySender = parsesEverySender;
            this.countsFirst = countsFirst;
        }

        /** Whether an unauthenticated sender is parsed too (else only an authenticated identity's). */
        public boolean parsesEverySender() {
            return parsesEverySender;
        }

        /** Whether the recipient count is checked before the recipient's syntax and decision. */
        public boolean countsFirst() {
            return countsFirst;
        }
    }

    /** Who asks: the rules in force, the client, its identity (null when unauthenticated), SMTPUTF8. */
    public record Context(RelayRules rules, String clientAddress, Identity identity, boolean smtputf8) {
    }

    /** The counted usage to check rates against, and now; only the session passes one. */
    public record RateView(Usage usage, Instant now) {
    }

    /** What a passed check yields (the parsed address, null for the null sender or an unparsed one), or why not. */
    public record Outcome<T>(T value, Failure failure) {

        static <T> Outcome<T> passed(T value) {
            return new Outcome<>(value, null);
        }

        static <T> Outcome<T> failed(Failure failure) {
            return new Outcome<>(null, failure);
        }

        public boolean passed() {
            return failure == null;
        }
    }

    /** A recipient the engine allows, with the rule that allowed it. */
    public record Allowed(MailAddress address, String rule) {
    }

    /** The named steps, in their order (the recipient count's place depends on {@link Stage#countsFirst}). */
    public enum Step {
        NULL_SENDER, HEADER_FROM, SENDER_SYNTAX, SENDER_OWNED, MESSAGE_SIZE, MESSAGE_RATE,
        RECIPIENT_COUNT, RECIPIENT_SYNTAX, RECIPIENT_DECISION, RECIPIENT_RATE
    }

    /** Why a check refused, at which step; {@link #rule} and {@link #reason} are what the policy records. */
    public sealed interface Failure {

        Step step();

        String rule();

        String reason();

        /** Whether the session answers it with 4xx (else 5xx). */
        default boolean temporary() {
            return false;
        }

        /** The rule engine said no: null sender, header From, sender ownership, recipient decision. */
        record Denied(Step step, RelayDecision.Deny deny) implements Failure {
            public String rule() {
                return deny.rule();
            }

            public String reason() {
                return deny.reason();
            }
        }

        /** The address parser refused the sender or a recipient. */
        record BadAddress(Step step, ParsedAddress.Invalid invalid) implements Failure {
            public String rule() {
                return ADDRESS_SYNTAX;
            }

            public String reason() {
                return invalid.reason();
            }
        }

        /** Over the rule set's message size or the stage's recipient count. */
        record OverLimit(Step step, RelayRules.Limit limit) implements Failure {
            public String rule() {
                return limit.rule();
            }

            public String reason() {
                return step == Step.MESSAGE_SIZE ? "message too large (at most " + limit.value() + " bytes)"
                        : "too many recipients (at most " + limit.value() + ")";
            }

            @Override
            public boolean temporary() {
                return step == Step.RECIPIENT_COUNT;
            }
        }

        /** A rate limit of the rule set is full. */
        record RateLimited(Step step, Exceeded exceeded) implements Failure {
            public String rule() {
                return exceeded.rule();
            }

            public String reason() {
                return exceeded.describe();
            }

            @Override
            public boolean temporary() {
                return true;
            }
        }
    }

    /** The rule the policy names for an address its parser refuses. */
    public static final String ADDRESS_SYNTAX = "address-syntax";

    /**
     * The sender checks, in order.
     *
     * @param mailFrom the reverse-path, empty for the null sender
     * @param message  the message bytes for the header From: binding; null skips it
     * @param size     the message size for the rule set's limit; negative when not known (skips it)
     * @param rate     the usage to check one more message against; null skips it
     * @return the parsed sender (null for the null sender, or when this stage does not parse it)
     */
    public static Outcome<MailAddress> sender(Stage stage, Context c, String mailFrom, byte[] message, long size,
                                              RateView rate) {
        boolean nullSender = mailFrom.isEmpty();
        if (nullSender && c.rules().nullSender(c.identity()) instanceof RelayDecision.Deny deny) {
            return Outcome.failed(new Failure.Denied(Step.NULL_SENDER, deny));
        }
        if (message != null && c.rules().headerFromBound(c.identity())) {
            HeaderFrom.Result from = HeaderFrom.of(message);
            if (from.present()) {
                RelayDecision decision = from.valid() ? c.rules().headerFrom(c.identity(), from.addresses())
                        : new RelayDecision.Deny("header-from-not-owned", "the From: header cannot be read");
                if (decision instanceof RelayDecision.Deny deny) {
                    return Outcome.failed(new Failure.Denied(Step.HEADER_FROM, deny));
                }
            }
        }
        MailAddress sender = null;
        if (!nullSender && (stage.parsesEverySender() || c.identity() != null)) {
            ParsedAddress parsed = AddressParser.parse(mailFrom, c.smtputf8());
            if (parsed instanceof ParsedAddress.Invalid invalid) {
                return Outcome.failed(new Failure.BadAddress(Step.SENDER_SYNTAX, invalid));
            }
            sender = ((ParsedAddress.Valid) parsed).address();
            if (c.identity() != null && c.rules().sender(c.identity(), sender) instanceof RelayDecision.Deny deny) {
                return Outcome.failed(new Failure.Denied(Step.SENDER_OWNED, deny));
            }
        }
        Optional<RelayRules.Limit> maxSize = c.rules().maxMessageSize(c.identity());
        if (size >= 0 && maxSize.isPresent() && size > maxSize.get().value()) {
            return Outcome.failed(new Failure.OverLimit(Step.MESSAGE_SIZE, maxSize.get()));
        }
        String from = sender == null ? mailFrom : sender.toString();
        Optional<Exceeded> limited = rate(c, from, rate, 1, 0);
        return limited.isPresent() ? Outcome.failed(new Failure.RateLimited(Step.MESSAGE_RATE, limited.get()))
                : Outcome.passed(sender);
    }

    /**
     * The checks of one recipient, in order.
     *
     * @param mailFrom      the transaction's sender as accepted (for the rate subject)
     * @param recipient     the forward-path as given
     * @param allowedSoFar  recipients of this message already allowed
     * @param maxRecipients the limit this stage applies (empty: none)
     * @param rate          the usage to check {@code allowedSoFar + 1} recipients against; null skips it
     */
    public static Outcome<Allowed> recipient(Stage stage, Context c, String mailFrom, String recipient,
                                             int allowedSoFar, Optional<RelayRules.Limit> maxRecipients,
                                             RateView rate) {
        boolean full = maxRecipients.isPresent() && allowedSoFar >= maxRecipients.get().value();
        if (stage.countsFirst() && full) {
            return Outcome.failed(new Failure.OverLimit(Step.RECIPIENT_COUNT, maxRecipients.get()));
        }
        ParsedAddress parsed = AddressParser.parse(recipient, c.smtputf8());
        if (parsed instanceof ParsedAddress.Invalid invalid) {
            return Outcome.failed(new Failure.BadAddress(Step.RECIPIENT_SYNTAX, invalid));
        }
        MailAddress address = ((ParsedAddress.Valid) parsed).address();
        RelayDecision decision = c.rules().decide(c.clientAddress(), c.identity(), address);
        if (decision instanceof RelayDecision.Deny deny) {
            return Outcome.failed(new Failure.Denied(Step.RECIPIENT_DECISION, deny));
        }
        if (!stage.countsFirst() && full) {
            return Outcome.failed(new Failure.OverLimit(Step.RECIPIENT_COUNT, maxRecipients.get()));
        }
        Optional<Exceeded> limited = rate(c, mailFrom, rate, 0, allowedSoFar + 1);
        return limited.isPresent() ? Outcome.failed(new Failure.RateLimited(Step.RECIPIENT_RATE, limited.get()))
                : Outcome.passed(new Allowed(address, decision.rule()));
    }

    private static Optional<Exceeded> rate(Context c, String mailFrom, RateView rate, int messages, int recipients) {
        RateLimits limits = c.rules().rateLimits();
        if (rate == null || limits.isEmpty()) {
            return Optional.empty();
        }
        return limits.admit(Subject.of(c.identity(), mailFrom, c.clientAddress()), rate.usage(), rate.now(),
                messages, recipients);
    }
}
