package dev.relay.ingress.smtp.session;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Dsn;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Identity;
import dev.relay.common.net.ClientKey;
import dev.relay.common.rules.Exceeded;
import dev.relay.common.rules.RateLimits;
import dev.relay.common.rules.RelayDecision;
import dev.relay.common.rules.RelayRules;
import dev.relay.common.rules.Subject;
import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.CommandParser;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.MemoryAccount;
import dev.relay.ingress.smtp.protocol.MessageBuffer;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The SMTP server state machine for one connection (RFC 5321, 3207, 3030, 3461, 4954, 6409, 7628). Pure: it never
 * touches a socket or the network. Order of calls from the edge: {@link #greet()}, then for each line
 * {@link #onLine}, performing every returned {@link Action}; asynchronous actions are answered with
 * {@link #onAuthResult} / {@link #onDataEnd} / {@link #onChunk} / {@link #onPublished} before the next line is
 * given; after a successful TLS handshake, {@link #onTlsStarted()}.
 *
 * <p>Memory: the transaction owns its message buffer, and every way a transaction ends other than publishing (EHLO,
 * HELO, RSET, STARTTLS, a refused chunk or message, an error that closes, a bare LF, the connection closing) goes
 * through {@link #resetTransaction()}, the one place that gives the reservation back. A published message's buffer
 * is given back by {@link #onSettled} once the producer is done with the record.
 */
public final class SmtpSession {

    /** RFC 4954 §4: a SASL response line may be up to 12288 octets. */
    public static final int MAX_AUTH_LINE = 12288;
    /** RFC 5321 §4.5.3.1.4 minimum is 512; 2048 as Postfix does, for long parameter lists. */
    public static final int MAX_COMMAND_LINE = 2048;

    private enum State { CONNECTED, READY, AUTH, AUTH_CHECKING, DATA, CHUNK, PUBLISHING, CLOSED }

    private final SessionSettings settings;
    private final Listener listener;
    private final String clientAddress;
    /** This client's share of the process-wide memory budget (its address, or its IPv6 /64). */
    private final MemoryAccount memory;
    private State state = State.CONNECTED;
    private boolean tls;
    private String heloName;
    private Identity identity;
    private long identityValidUntil;
    private Transaction transaction;
    private AuthExchange auth;
    private int errors;
    private final List<String> queuedIds = new ArrayList<>();

    public SmtpSession(SessionSettings settings, Listener listener, String clientAddress) {
        this.settings = settings;
        this.listener = listener;
        this.clientAddress = clientAddress;
        this.memory = settings.memory().forClient(ClientKey.of(clientAddress));
        this.tls = listener.implicitTls();
    }

    public Action greet() {
        return new Action.Send(Reply.of(220, null, settings.serverName() + " ESMTP Relay"));
    }

    /** The longest line the edge should accept in the current state. */
    public int maxLineLength() {
        return state == State.AUTH ? MAX_AUTH_LINE : MAX_COMMAND_LINE;
    }

    public Action onLine(byte[] line) {
        if (state == State.AUTH) {
            return authStep(auth.respond(line));
        }
        return onCommand(CommandParser.parse(line));
    }

    /** A line longer than {@link #maxLineLength()} was read (and discarded) by the edge. */
    public Action onLineTooLong() {
        if (state == State.AUTH) {
            state = State.READY;
        }
        return error(Replies.LINE_TOO_LONG);
    }

    public Action onCommand(Command command) {
        Reply gate = gate(command);
        if (gate != null) {
            return command instanceof Command.Bdat bdat ? discardChunk(bdat, error(gate)) : error(gate);
        }
        if (command instanceof Command.Helo helo) {
            return helo(helo);
        } else if (command instanceof Command.Mail mail) {
            return mail(mail);
        } else if (command instanceof Command.Rcpt rcpt) {
            return rcpt(rcpt);
        } else if (command instanceof Command.Bdat bdat) {
            return bdat(bdat);
        } else if (command instanceof Command.Auth start) {
            auth = new AuthExchange();
            return authStep(auth.start(start));
        } else if (command instanceof Command.Vrfy) {
            return send(Replies.CANNOT_VRFY);
        } else if (command instanceof Command.Simple simple) {
            return simple(simple.verb());
        } else if (command instanceof Command.NotImplemented) {
            return error(Replies.NOT_IMPLEMENTED);
        } else if (command instanceof Command.Invalid invalid) {
            if (invalid.verb().equals("BDAT")) {
                resetTransaction();
                state = State.CLOSED; // the chunk length is unknown: the stream cannot be resynchronised
                return new Action.SendAndClose(Replies.BAD_BDAT_SYNTAX);
            }
            return error(invalid.reply());
        }
        return error(Replies.UNKNOWN_COMMAND);
    }

    /**
     * The one table of gates: which commands need a greeting, TLS or authentication first. Returns the refusal,
     * or null when the command may proceed to its handler.
     */
    private Reply gate(Command command) {
        String verb = command.verb();
        boolean greeted = heloName != null;
        switch (verb) {
            case "MAIL", "RCPT", "DATA", "BDAT" -> {
                if (!greeted) {
                    return Replies.HELO_FIRST;
                }
                if (verb.equals("MAIL") && identity != null && System.currentTimeMillis() >= identityValidUntil) {
                    identity = null; // the credential's lifetime passed: re-verify by authenticating again
                    return Replies.REAUTHENTICATE;
                }
                if (verb.equals("MAIL") && listener.authRequired() && identity == null) {
                    return Replies.AUTH_REQUIRED;
                }
            }
            case "AUTH" -> {
                if (!greeted) {
                    return Replies.HELO_FIRST;
                }
                if (!tls) {
                    return Replies.ENCRYPTION_REQUIRED;
                }
                if (identity != null) {
                    return Replies.ALREADY_AUTHENTICATED;
                }
                if (transaction != null) {
                    return Replies.AUTH_IN_TRANSACTION;
                }
            }
            case "STARTTLS" -> {
                if (tls) {
                    return Replies.TLS_ALREADY_ACTIVE;
                }
                if (!settings.tlsAvailable()) {
                    return Replies.TLS_UNAVAILABLE;
                }
            }
            default -> {
            }
        }
        return null;
    }

    private Action helo(Command.Helo helo) {
        heloName = helo.domain();
        resetTransaction();
        state = State.READY;
        if (!helo.extended()) {
            return send(Reply.of(250, null, settings.serverName()));
        }
        List<String> lines = new ArrayList<>(List.of(settings.serverName() + " Hello " + helo.domain(),
                "PIPELINING", "SIZE " + settings.maxMessageSize(), "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
                "CHUNKING", "DSN"));
        if (!tls && settings.tlsAvailable()) {
            lines.add("STARTTLS");
        }
        if (tls && identity == null) {
            lines.add("AUTH " + AuthExchange.MECHANISMS);
        }
        return send(new Reply(250, null, lines));
    }

    private Action mail(Command.Mail mail) {
        if (transaction != null) {
            return error(Replies.NESTED_MAIL);
        }
        EnvelopeParameters.Parsed<EnvelopeParameters.Mail> params =
                EnvelopeParameters.mail(mail.params(), maxMessageSize());
        if (params.refusal() != null) {
            return error(params.refusal());
        }
        String from = "";
        if (mail.path().isEmpty() && !settings.rules().nullSender(identity).allowed()) {
            return error(Replies.NULL_SENDER_NOT_ALLOWED);
        }
        if (!mail.path().isEmpty()) {
            ParsedAddress parsed = AddressParser.parse(mail.path(), params.value().smtputf8());
            if (parsed instanceof ParsedAddress.Invalid invalid) {
                return error(addressRefusal(invalid));
            }
            MailAddress sender = ((ParsedAddress.Valid) parsed).address();
            if (identity != null && !settings.rules().mayUseSender(identity, sender)) {
                return error(Replies.SENDER_NOT_OWNED);
            }
            from = sender.toString();
        }
        Optional<Exceeded> limited = rateLimit(from, 1, 0);
        if (limited.isPresent()) {
            return send(Replies.messageRateLimited(limited.get().describe()));
        }
        transaction = new Transaction(from, params.value());
        return send(Replies.SENDER_OK);
    }

    private Action rcpt(Command.Rcpt rcpt) {
        if (transaction == null) {
            return error(Replies.NEED_MAIL);
        }
        EnvelopeParameters.Parsed<Dsn.Recipient> params = EnvelopeParameters.rcpt(rcpt.params());
        if (params.refusal() != null) {
            return error(params.refusal());
        }
        if (transaction.recipients.size() >= maxRecipients()) {
            return send(Replies.TOO_MANY_RECIPIENTS);
        }
        ParsedAddress parsed = AddressParser.parse(rcpt.path(), transaction.params.smtputf8());
        if (parsed instanceof ParsedAddress.Invalid invalid) {
            return error(addressRefusal(invalid));
        }
        MailAddress recipient = ((ParsedAddress.Valid) parsed).address();
        RelayDecision decision = settings.rules().decide(clientAddress, identity, recipient);
        if (decision instanceof RelayDecision.Deny deny) {
            return error(Replies.recipientRefused(deny));
        }
        Optional<Exceeded> limited = rateLimit(transaction.mailFrom, 0, transaction.recipients.size() + 1);
        if (limited.isPresent()) {
            return send(Replies.recipientRateLimited(limited.get().describe()));
        }
        transaction.recipients.add(recipient);
        if (params.value() != null) {
            transaction.dsnRecipients.put(recipient.toString(), params.value());
        }
        return send(Replies.RECIPIENT_OK);
    }

    /**
     * The rule set's cluster-wide rate limits against the usage the policy service counted: whether this
     * message (at MAIL) or this many recipients (at RCPT) still fit. The policy checks again after acceptance
     * and holds what no longer fits, so a stale view here costs a hold, never a lost or bounced message.
     */
    private Optional<Exceeded> rateLimit(String mailFrom, int messages, int recipients) {
        RateLimits limits = settings.rules().rateLimits();
        if (limits.isEmpty()) {
            return Optional.empty();
        }
        RateLimitGate gate = settings.rateLimits();
        return limits.admit(Subject.of(identity, mailFrom, clientAddress), gate.usage(), gate.now(), messages,
                recipients);
    }

    /** The rules may set lower limits per role or group; the configured limits are the hard ceilings. */
    private long maxMessageSize() {
        return Math.min(settings.maxMessageSize(), settings.rules().maxMessageSize(identity)
                .map(RelayRules.Limit::value).orElse(Long.MAX_VALUE));
    }

    private int maxRecipients() {
        return (int) Math.min(settings.maxRecipients(), settings.rules().maxRecipients(identity)
                .map(RelayRules.Limit::value).orElse(Long.MAX_VALUE));
    }

    private static Reply addressRefusal(ParsedAddress.Invalid invalid) {
        return invalid.policy() ? Replies.addressRefused(invalid.reason()) : Replies.badAddress(invalid.reason());
    }

    private Action simple(String verb) {
        return switch (verb) {
            case "NOOP" -> send(Replies.OK);
            case "HELP" -> send(Replies.HELP);
            case "RSET" -> {
                resetTransaction();
                yield send(Replies.RESET_OK);
            }
            case "QUIT" -> {
                resetTransaction();
                state = State.CLOSED;
                yield new Action.SendAndClose(Replies.BYE);
            }
            case "STARTTLS" -> {
                resetTransaction();
                yield new Action.StartTls(Replies.READY_TO_START_TLS);
            }
            case "DATA" -> data();
            default -> error(Replies.UNKNOWN_COMMAND);
        };
    }

    private Action data() {
        Reply refusal = transaction == null ? Replies.NEED_MAIL
                : transaction.recipients.isEmpty() ? Replies.NEED_RCPT
                : transaction.chunked ? Replies.MIXED_DATA_BDAT : null;
        if (refusal != null) {
            return error(refusal);
        }
        if (memory.exhausted()) {
            return send(Replies.NO_MEMORY);
        }
        state = State.DATA;
        transaction.buffer = newBuffer();
        return new Action.ReadData(Replies.START_DATA, new DataDecoder(transaction.buffer));
    }

    private Action bdat(Command.Bdat bdat) {
        Reply refusal = transaction == null ? Replies.NEED_MAIL
                : transaction.recipients.isEmpty() ? Replies.NEED_RCPT : null;
        if (refusal != null) {
            return discardChunk(bdat, error(refusal));
        }
        if (!transaction.chunked) {
            if (memory.exhausted()) {
                return discardChunk(bdat, send(Replies.NO_MEMORY));
            }
            transaction.chunked = true;
            transaction.buffer = newBuffer();
        }
        state = State.CHUNK;
        return new Action.ReadChunk(bdat.size(), bdat.last(), transaction.buffer, null);
    }

    /** The chunk must still be read off the wire, then the refusal is sent. */
    private static Action discardChunk(Command.Bdat bdat, Action refusal) {
        Reply reply = refusal instanceof Action.Send s ? s.reply() : ((Action.SendAndClose) refusal).reply();
        return new Action.ReadChunk(bdat.size(), bdat.last(), null, reply);
    }

    private MessageBuffer newBuffer() {
        transaction.messageId = QueueIds.next();
        byte[] received = ReceivedHeader.build(heloName, clientAddress, settings.serverName(), protocol(),
                transaction.messageId, transaction.recipients);
        return new MessageBuffer(settings.maxMessageSize(), settings.maxLineLength(), memory, received);
    }

    /** A BDAT chunk has been read completely into the buffer the {@link Action.ReadChunk} named. */
    public Action onChunk(Action.ReadChunk chunk) {
        state = State.READY;
        if (chunk.buffer() == null) {
            return send(chunk.refusal());
        }
        if (!chunk.last()) {
            if (chunk.buffer().failed()) { // RFC 3030 §2: after a refused chunk the transaction has failed
                Reply refusal = MessageChecks.refusal(chunk.buffer(), settings);
                resetTransaction();
                return send(refusal);
            }
            return send(Replies.chunkReceived(chunk.size()));
        }
        return finish();
    }

    /** The DATA section has ended (the decoder is done). */
    public Action onDataEnd(DataDecoder decoder) {
        return finish();
    }

    /** The message is complete: refused (the transaction is reset) or handed to the publisher with its buffer. */
    private Action finish() {
        state = State.READY;
        MessageBuffer buffer = transaction.buffer;
        Reply refusal = buffer.size() > maxMessageSize() ? Replies.MESSAGE_TOO_BIG
                : MessageChecks.refusal(buffer, settings);
        if (refusal != null) {
            resetTransaction();
            return send(refusal);
        }
        Transaction tx = transaction;
        transaction = null;
        tx.takeBuffer();
        byte[] message = buffer.bytes();
        Reply fromRefusal = MessageChecks.fromRefusal(message, settings.rules(), identity);
        if (fromRefusal != null) {
            buffer.release();
            return send(fromRefusal);
        }
        Envelope envelope = new Envelope(Envelope.VERSION, tx.messageId, System.currentTimeMillis(), clientAddress,
                heloName, listener.tag(), tls, identity, tx.mailFrom,
                tx.recipients.stream().map(MailAddress::toString).toList(), tx.params.smtputf8(), tx.params.body(),
                message.length, null, 0, tx.dsn()).withTrustedNetwork(settings.rules().trusts(clientAddress));
        state = State.PUBLISHING;
        return new Action.Publish(envelope, message, buffer);
    }

    /**
     * Kafka acknowledged the record (or did not, in time): the reply. The message's memory stays reserved until
     * {@link #onSettled}, because after a timeout the record may still sit in the producer.
     */
    public Action onPublished(Action.Publish publish, boolean stored) {
        state = State.READY;
        if (!stored) {
            return send(Replies.QUEUE_UNAVAILABLE);
        }
        queuedIds.add(publish.envelope().messageId());
        return send(Replies.queued(publish.envelope().messageId()));
    }

    /**
     * The producer is done with a published record (acknowledged, failed or expired): the one place a published
     * message's reservation is given back. Called exactly once per {@link Action.Publish}, possibly after the reply
     * and even after the connection closed.
     */
    public void onSettled(Action.Publish publish) {
        publish.buffer().release();
    }

    public void onTlsStarted() {
        // RFC 3207 §4.2: forget everything learned before the handshake.
        tls = true;
        heloName = null;
        identity = null;
        resetTransaction();
        state = State.CONNECTED;
    }

    private Action authStep(AuthExchange.Step step) {
        if (step instanceof AuthExchange.Step.Challenge challenge) {
            state = State.AUTH;
            return send(challenge.reply());
        }
        if (step instanceof AuthExchange.Step.Verify verify) {
            state = State.AUTH_CHECKING;
            return verify.action();
        }
        state = State.READY;
        return error(((AuthExchange.Step.Refuse) step).reply());
    }

    public Action onAuthResult(AuthResult result) {
        state = State.READY;
        if (result instanceof AuthResult.Success success) {
            identity = success.identity();
            identityValidUntil = success.validUntil();
            return send(Replies.AUTH_OK);
        }
        if (result instanceof AuthResult.Invalid && auth.tokenMechanism()) {
            return authStep(auth.tokenRefused());
        }
        return result instanceof AuthResult.Invalid ? error(Replies.AUTH_FAILED) : send(Replies.AUTH_UNAVAILABLE);
    }

    /**
     * The one transaction-reset path: ends the transaction, if any, and gives back everything it holds (the DATA
     * buffer or the BDAT chunks and their memory). Every way out of a transaction other than a publish uses it.
     */
    private void resetTransaction() {
        if (transaction != null) {
            transaction.release();
            transaction = null;
        }
    }

    /**
     * A bare LF ended a command line. Nothing on that line, and nothing after it, is executed: a line split at a
     * bare LF is how commands are smuggled past a front end that splits lines differently. Like Postfix's
     * {@code smtpd_forbid_bare_newline}, the reply names the reason and the connection is closed.
     */
    public Action onBareLineFeed() {
        resetTransaction();
        state = State.CLOSED;
        return new Action.SendAndClose(Replies.BARE_LF_CLOSING);
    }

    /** The edge closes the connection for a reason of its own (timeout, pipelining, shutdown). */
    public void onClosing() {
        resetTransaction();
        state = State.CLOSED;
    }

    /** The connection is gone: give back what it held. */
    public void onClosed() {
        resetTransaction();
        state = State.CLOSED;
    }

    private String protocol() {
        return "ESMTP" + (tls ? "S" : "") + (identity != null ? "A" : "");
    }

    private Action send(Reply reply) {
        return new Action.Send(reply);
    }

    /** A refused command: counts towards the error limit, after which the session is closed with 421. */
    private Action error(Reply reply) {
        if (++errors >= settings.maxErrors()) {
            resetTransaction();
            state = State.CLOSED;
            return new Action.SendAndClose(Replies.TOO_MANY_ERRORS);
        }
        return new Action.Send(reply);
    }

    /** Between transactions, with nothing outstanding: the session may be closed without losing anything. */
    public boolean idle() {
        return transaction == null && (state == State.CONNECTED || state == State.READY);
    }

    /** Whether the session holds message bytes (a DATA or BDAT transfer started and has not ended). */
    public boolean holdsMessage() {
        return transaction != null && transaction.buffer != null;
    }

    /** Whether a transaction is open (MAIL given, not yet ended): none survives a reset. */
    public boolean inTransaction() {
        return transaction != null;
    }

    /** Whether the next line is a SASL response rather than a command. */
    public boolean awaitingAuthResponse() {
        return state == State.AUTH;
    }

    public String heloName() {
        return heloName;
    }

    public Identity identity() {
        return identity;
    }

    public boolean tls() {
        return tls;
    }

    public List<String> queuedIds() {
        return List.copyOf(queuedIds);
    }

    public int errors() {
        return errors;
    }
}
