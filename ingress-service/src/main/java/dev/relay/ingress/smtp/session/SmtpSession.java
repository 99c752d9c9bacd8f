package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Identity;
import dev.relay.ingress.auth.AuthResult;
import dev.relay.ingress.auth.sasl.AuthExchange;
import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.CommandParser;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;
import dev.relay.ingress.smtp.session.SessionState.State;

import java.util.ArrayList;
import java.util.List;

/**
 * The SMTP server state machine for one connection (RFC 5321, 3207, 3030, 3461, 4954, 6409, 7628). Pure: it never
 * touches a socket or the network. Order of calls from the edge: {@link #greet()}, then for each line
 * {@link #onLine}, performing every returned {@link Action}; asynchronous actions are answered with
 * {@link #onAuthResult} / {@link #onDataEnd} / {@link #onChunk} / {@link #onPublished} before the next line is
 * given; after a successful TLS handshake, {@link #onTlsStarted()}.
 *
 * <p>This class dispatches and owns the greeting, TLS and the AUTH exchange; the gates are in {@link CommandGate},
 * MAIL and RCPT in {@link EnvelopeCommands}, DATA, BDAT and the publish in {@link MessageIntake}, what they share in
 * {@link SessionState}.
 *
 * <p>Memory: the transaction owns its message buffer, and every way a transaction ends other than publishing (EHLO,
 * HELO, RSET, STARTTLS, a refused chunk or message, an error that closes, a bare LF, the connection closing) goes
 * through {@link SessionState#resetTransaction()}, the one place that gives the reservation back. A published
 * message's buffer is given back by {@link #onSettled} once the producer is done with the record.
 */
public final class SmtpSession {

    /** RFC 4954 §4: a SASL response line may be up to 12288 octets. */
    public static final int MAX_AUTH_LINE = 12288;
    /** RFC 5321 §4.5.3.1.4 minimum is 512; 2048 as Postfix does, for long parameter lists. */
    public static final int MAX_COMMAND_LINE = 2048;

    private final SessionState s;
    private final EnvelopeCommands envelope;
    private final MessageIntake intake;
    private AuthExchange auth;

    public SmtpSession(SessionSettings settings, Listener listener, String clientAddress) {
        this(settings, listener, clientAddress, SessionEvents.NONE);
    }

    /** @param events where the session reports what it refuses (see {@link SessionEvents}) */
    public SmtpSession(SessionSettings settings, Listener listener, String clientAddress, SessionEvents events) {
        this.s = new SessionState(settings, listener, clientAddress, events);
        this.envelope = new EnvelopeCommands(s);
        this.intake = new MessageIntake(s);
    }

    public Action greet() {
        return new Action.Send(Reply.of(220, null, s.settings.serverName() + " ESMTP Relay"));
    }

    /** The longest line the edge should accept in the current state. */
    public int maxLineLength() {
        return s.state == State.AUTH ? MAX_AUTH_LINE : MAX_COMMAND_LINE;
    }

    public Action onLine(byte[] line) {
        if (s.state == State.AUTH) {
            return authStep(auth.respond(line));
        }
        return onCommand(CommandParser.parse(line));
    }

    /** A line longer than {@link #maxLineLength()} was read (and discarded) by the edge. */
    public Action onLineTooLong() {
        if (s.state == State.AUTH) {
            s.state = State.READY;
        }
        return s.error(Replies.LINE_TOO_LONG);
    }

    public Action onCommand(Command command) {
        Reply gate = CommandGate.refusal(command, s);
        if (gate != null) {
            return command instanceof Command.Bdat bdat
                    ? MessageIntake.discardChunk(bdat, s.error(gate)) : s.error(gate);
        }
        if (command instanceof Command.Helo helo) {
            return helo(helo);
        } else if (command instanceof Command.Mail mail) {
            return envelope.mail(mail);
        } else if (command instanceof Command.Rcpt rcpt) {
            return envelope.rcpt(rcpt);
        } else if (command instanceof Command.Bdat bdat) {
            return intake.bdat(bdat);
        } else if (command instanceof Command.Auth start) {
            auth = new AuthExchange();
            return authStep(auth.start(start));
        } else if (command instanceof Command.Vrfy) {
            return s.send(Replies.CANNOT_VRFY);
        } else if (command instanceof Command.Simple simple) {
            return simple(simple.verb());
        } else if (command instanceof Command.NotImplemented) {
            return s.error(Replies.NOT_IMPLEMENTED);
        } else if (command instanceof Command.Invalid invalid) {
            if (invalid.verb().equals("BDAT")) {
                // the chunk length is unknown: the stream cannot be resynchronised
                return s.close(Replies.BAD_BDAT_SYNTAX);
            }
            return s.error(invalid.reply());
        }
        return s.error(Replies.UNKNOWN_COMMAND);
    }

    private Action helo(Command.Helo helo) {
        s.heloName = helo.domain();
        s.resetTransaction();
        s.state = State.READY;
        String serverName = s.settings.serverName();
        if (!helo.extended()) {
            return s.send(Reply.of(250, null, serverName));
        }
        List<String> lines = new ArrayList<>(List.of(serverName + " Hello " + helo.domain(),
                "PIPELINING", "SIZE " + s.settings.maxMessageSize(), "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES",
                "CHUNKING", "DSN"));
        if (!s.tls && s.settings.tlsAvailable()) {
            lines.add("STARTTLS");
        }
        if (s.tls && s.identity == null) {
            lines.add("AUTH " + AuthExchange.MECHANISMS);
        }
        return s.send(new Reply(250, null, lines));
    }

    private Action simple(String verb) {
        return switch (verb) {
            case "NOOP" -> s.send(Replies.OK);
            case "HELP" -> s.send(Replies.HELP);
            case "RSET" -> {
                s.resetTransaction();
                yield s.send(Replies.RESET_OK);
            }
            case "QUIT" -> s.close(Replies.BYE);
            case "STARTTLS" -> {
                s.resetTransaction();
                yield new Action.StartTls(Replies.READY_TO_START_TLS);
            }
            case "DATA" -> intake.data();
            default -> s.error(Replies.UNKNOWN_COMMAND);
        };
    }

    /** A BDAT chunk has been read completely into the buffer the {@link Action.ReadChunk} named. */
    public Action onChunk(Action.ReadChunk chunk) {
        return intake.onChunk(chunk);
    }

    /** The DATA section has ended (the decoder is done). */
    public Action onDataEnd(DataDecoder decoder) {
        return intake.finish();
    }

    /**
     * Kafka acknowledged the record (or did not, in time): the reply. The message's memory stays reserved until
     * {@link #onSettled}, because after a timeout the record may still sit in the producer.
     */
    public Action onPublished(Action.Publish publish, boolean stored) {
        return intake.onPublished(publish, stored);
    }

    /**
     * The producer is done with a published record (acknowledged, failed or expired): the one place a published
     * message's reservation is given back. Called exactly once per {@link Action.Publish}, possibly after the reply
     * and even after the connection closed.
     */
    public void onSettled(Action.Publish publish) {
        MessageIntake.onSettled(publish);
    }

    public void onTlsStarted() {
        // RFC 3207 §4.2: forget everything learned before the handshake.
        s.tls = true;
        s.heloName = null;
        s.identity = null;
        s.resetTransaction();
        s.state = State.CONNECTED;
    }

    private Action authStep(AuthExchange.Step step) {
        if (step instanceof AuthExchange.Step.Challenge challenge) {
            s.state = State.AUTH;
            return s.send(challenge.reply());
        }
        if (step instanceof AuthExchange.Step.Verify verify) {
            s.state = State.AUTH_CHECKING;
            return new Action.Verify(verify.credentials());
        }
        s.state = State.READY;
        return s.error(((AuthExchange.Step.Refuse) step).reply());
    }

    public Action onAuthResult(AuthResult result) {
        s.state = State.READY;
        if (result instanceof AuthResult.Success success) {
            s.identity = success.identity();
            s.identityValidUntil = success.validUntil();
            return s.send(Replies.AUTH_OK);
        }
        if (result instanceof AuthResult.Invalid && auth.tokenMechanism()) {
            return authStep(auth.tokenRefused());
        }
        return result instanceof AuthResult.Invalid ? s.error(Replies.AUTH_FAILED) : s.send(Replies.AUTH_UNAVAILABLE);
    }

    /**
     * A bare LF ended a command line. Nothing on that line, and nothing after it, is executed: a line split at a
     * bare LF is how commands are smuggled past a front end that splits lines differently. Like Postfix's
     * {@code smtpd_forbid_bare_newline}, the reply names the reason and the connection is closed.
     */
    public Action onBareLineFeed() {
        return s.close(Replies.BARE_LF_CLOSING);
    }

    /** The edge closes the connection for a reason of its own (timeout, pipelining, shutdown). */
    public void onClosing() {
        s.resetTransaction();
        s.state = State.CLOSED;
    }

    /** The connection is gone: give back what it held. */
    public void onClosed() {
        s.resetTransaction();
        s.state = State.CLOSED;
    }

    /** Between transactions, with nothing outstanding: the session may be closed without losing anything. */
    public boolean idle() {
        return s.transaction == null && (s.state == State.CONNECTED || s.state == State.READY);
    }

    /** Whether the session holds message bytes (a DATA or BDAT transfer started and has not ended). */
    public boolean holdsMessage() {
        return s.transaction != null && s.transaction.buffer != null;
    }

    /** Whether a transaction is open (MAIL given, not yet ended): none survives a reset. */
    public boolean inTransaction() {
        return s.transaction != null;
    }

    /** Whether the next line is a SASL response rather than a command. */
    public boolean awaitingAuthResponse() {
        return s.state == State.AUTH;
    }

    public String heloName() {
        return s.heloName;
    }

    public Identity identity() {
        return s.identity;
    }

    public boolean tls() {
        return s.tls;
    }

    public List<String> queuedIds() {
        return List.copyOf(s.queuedIds);
    }

    public int errors() {
        return s.errors;
    }
}
