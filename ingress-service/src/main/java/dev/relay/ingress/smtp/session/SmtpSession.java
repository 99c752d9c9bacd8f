package dev.relay.ingress.smtp.session;

import dev.relay.common.address.AddressParser;
import dev.relay.common.address.MailAddress;
import dev.relay.common.address.ParsedAddress;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RelayDecision;
import dev.relay.common.rules.SenderPolicy;
import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.CommandParser;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The SMTP server state machine for one connection (RFC 5321, 3207, 4954, 6409). Pure: it never touches a
 * socket or the network. Order of calls from the edge: {@link #greet()}, then for each line {@link #onLine},
 * performing every returned {@link Action}; asynchronous actions are answered with {@link #onAuthResult} /
 * {@link #onDataEnd} / {@link #onPublished} before the next line is given; after a successful TLS handshake,
 * {@link #onTlsStarted()}.
 */
public final class SmtpSession {

    /** RFC 4954 §4: a SASL response line may be up to 12288 octets. */
    public static final int MAX_AUTH_LINE = 12288;
    /** RFC 5321 §4.5.3.1.4 minimum is 512; 2048 as Postfix does, for long parameter lists. */
    public static final int MAX_COMMAND_LINE = 2048;

    private enum State { CONNECTED, READY, AUTH_PLAIN, AUTH_LOGIN_USER, AUTH_LOGIN_PASSWORD, AUTH_CHECKING, DATA,
        PUBLISHING, CLOSED }

    private final SessionSettings settings;
    private final Listener listener;
    private final String clientAddress;
    private State state = State.CONNECTED;
    private boolean tls;
    private String heloName;
    private boolean extended;
    private Identity identity;
    private Transaction transaction;
    private String pendingLoginUser;
    private int errors;
    private final List<String> queuedIds = new ArrayList<>();
    private String currentId;

    public SmtpSession(SessionSettings settings, Listener listener, String clientAddress) {
        this.settings = settings;
        this.listener = listener;
        this.clientAddress = clientAddress;
        this.tls = listener.implicitTls();
    }

    public Action greet() {
        return new Action.Send(Reply.of(220, null, settings.serverName() + " ESMTP Relay"));
    }

    /** The longest line the edge should accept in the current state. */
    public int maxLineLength() {
        return state == State.AUTH_PLAIN || state == State.AUTH_LOGIN_USER || state == State.AUTH_LOGIN_PASSWORD
                ? MAX_AUTH_LINE : MAX_COMMAND_LINE;
    }

    public Action onLine(byte[] line) {
        return switch (state) {
            case AUTH_PLAIN -> plainResponse(line);
            case AUTH_LOGIN_USER -> loginUser(line);
            case AUTH_LOGIN_PASSWORD -> loginPassword(line);
            default -> onCommand(CommandParser.parse(line));
        };
    }

    /** A line longer than {@link #maxLineLength()} was read (and discarded) by the edge. */
    public Action onLineTooLong() {
        if (state != State.CONNECTED && state != State.READY) {
            state = State.READY;
        }
        return error(Replies.LINE_TOO_LONG);
    }

    public Action onCommand(Command command) {
        Reply gate = gate(command);
        if (gate != null) {
            return error(gate);
        }
        if (command instanceof Command.Helo helo) {
            return helo(helo);
        } else if (command instanceof Command.Mail mail) {
            return mail(mail);
        } else if (command instanceof Command.Rcpt rcpt) {
            return rcpt(rcpt);
        } else if (command instanceof Command.Auth auth) {
            return auth(auth);
        } else if (command instanceof Command.Vrfy) {
            return send(Replies.CANNOT_VRFY);
        } else if (command instanceof Command.Simple simple) {
            return simple(simple.verb());
        } else if (command instanceof Command.NotImplemented) {
            return error(Replies.NOT_IMPLEMENTED);
        } else if (command instanceof Command.Invalid invalid) {
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
            case "MAIL", "RCPT", "DATA" -> {
                if (!greeted) {
                    return Replies.HELO_FIRST;
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
        extended = helo.extended();
        transaction = null;
        state = State.READY;
        if (!extended) {
            return send(Reply.of(250, null, settings.serverName()));
        }
        List<String> lines = new ArrayList<>();
        lines.add(settings.serverName() + " Hello " + helo.domain());
        lines.add("PIPELINING");
        lines.add("SIZE " + settings.maxMessageSize());
        lines.add("8BITMIME");
        lines.add("SMTPUTF8");
        lines.add("ENHANCEDSTATUSCODES");
        if (!tls && settings.tlsAvailable()) {
            lines.add("STARTTLS");
        }
        if (tls && identity == null) {
            lines.add("AUTH PLAIN LOGIN");
        }
        return send(new Reply(250, null, lines));
    }

    private Action mail(Command.Mail mail) {
        if (transaction != null) {
            return error(Replies.NESTED_MAIL);
        }
        boolean utf8 = false;
        String body = "7BIT";
        for (Map.Entry<String, String> p : mail.params().entrySet()) {
            switch (p.getKey()) {
                case "SIZE" -> {
                    long declared;
                    try {
                        declared = Long.parseLong(p.getValue());
                    } catch (NumberFormatException | NullPointerException e) {
                        return error(Replies.syntax("SIZE needs a number"));
                    }
                    if (declared > settings.maxMessageSize()) {
                        return error(Replies.MESSAGE_TOO_BIG);
                    }
                }
                case "BODY" -> {
                    String v = p.getValue() == null ? "" : p.getValue().toUpperCase();
                    if (!v.equals("7BIT") && !v.equals("8BITMIME")) {
                        return error(Replies.syntax("BODY must be 7BIT or 8BITMIME"));
                    }
                    body = v;
                }
                case "SMTPUTF8" -> {
                    if (p.getValue() != null) {
                        return error(Replies.syntax("SMTPUTF8 takes no value"));
                    }
                    utf8 = true;
                }
                case "AUTH" -> {
                    // RFC 4954 §5: accepted and not trusted.
                }
                default -> {
                    return error(Replies.UNSUPPORTED_PARAMETER);
                }
            }
        }
        String from = "";
        if (!mail.path().isEmpty()) {
            ParsedAddress parsed = AddressParser.parse(mail.path(), utf8);
            if (parsed instanceof ParsedAddress.Invalid invalid) {
                return error(invalid.policy() ? Replies.addressRefused(invalid.reason())
                        : Replies.badAddress(invalid.reason()));
            }
            MailAddress sender = ((ParsedAddress.Valid) parsed).address();
            if (identity != null && !SenderPolicy.owns(identity, sender)) {
                return error(Replies.SENDER_NOT_OWNED);
            }
            from = sender.toString();
        }
        transaction = new Transaction(from, utf8, body);
        return send(Replies.SENDER_OK);
    }

    private Action rcpt(Command.Rcpt rcpt) {
        if (transaction == null) {
            return error(Replies.NEED_MAIL);
        }
        if (!rcpt.params().isEmpty()) {
            return error(Replies.UNSUPPORTED_PARAMETER);
        }
        if (transaction.recipients.size() >= settings.maxRecipients()) {
            return send(Replies.TOO_MANY_RECIPIENTS);
        }
        ParsedAddress parsed = AddressParser.parse(rcpt.path(), transaction.smtputf8);
        if (parsed instanceof ParsedAddress.Invalid invalid) {
            return error(invalid.policy() ? Replies.addressRefused(invalid.reason())
                    : Replies.badAddress(invalid.reason()));
        }
        MailAddress recipient = ((ParsedAddress.Valid) parsed).address();
        RelayDecision decision = settings.rules().decide(clientAddress, identity, recipient);
        if (decision instanceof RelayDecision.Deny deny) {
            return error(Replies.relayDenied(deny.reason()));
        }
        transaction.recipients.add(recipient);
        return send(Replies.RECIPIENT_OK);
    }

    private Action simple(String verb) {
        return switch (verb) {
            case "NOOP" -> send(Replies.OK);
            case "HELP" -> send(Replies.HELP);
            case "RSET" -> {
                transaction = null;
                yield send(Replies.RESET_OK);
            }
            case "QUIT" -> {
                state = State.CLOSED;
                yield new Action.SendAndClose(Replies.BYE);
            }
            case "STARTTLS" -> {
                transaction = null;
                yield new Action.StartTls(Replies.READY_TO_START_TLS);
            }
            case "DATA" -> data();
            default -> error(Replies.UNKNOWN_COMMAND);
        };
    }

    private Action data() {
        if (transaction == null) {
            return error(Replies.NEED_MAIL);
        }
        if (transaction.recipients.isEmpty()) {
            return error(Replies.NEED_RCPT);
        }
        state = State.DATA;
        currentId = QueueIds.next();
        byte[] received = ReceivedHeader.build(heloName, clientAddress, settings.serverName(),
                protocol(), currentId, transaction.recipients);
        return new Action.ReadData(Replies.START_DATA, new DataDecoder(settings.maxMessageSize(), received));
    }

    /** The DATA section has ended (the decoder is done). */
    public Action onDataEnd(DataDecoder decoder) {
        Transaction tx = transaction;
        transaction = null;
        state = State.READY;
        switch (decoder.outcome()) {
            case TOO_BIG -> {
                return send(Replies.MESSAGE_TOO_BIG);
            }
            case BARE_LINE_ENDING -> {
                return send(Replies.BAD_DATA_LINE_ENDING);
            }
            default -> {
            }
        }
        byte[] message = decoder.message();
        Envelope envelope = new Envelope(Envelope.VERSION, currentId, System.currentTimeMillis(), clientAddress,
                heloName, listener.tag(), tls, identity, tx.mailFrom,
                tx.recipients.stream().map(MailAddress::toString).toList(), tx.smtputf8, tx.body, message.length,
                null, 0);
        state = State.PUBLISHING;
        return new Action.Publish(envelope, message);
    }

    /** Kafka acknowledged the record (or did not, in time). */
    public Action onPublished(boolean stored) {
        state = State.READY;
        if (!stored) {
            return send(Replies.QUEUE_UNAVAILABLE);
        }
        queuedIds.add(currentId);
        return send(Replies.queued(currentId));
    }

    public void onTlsStarted() {
        // RFC 3207 §4.2: forget everything learned before the handshake.
        tls = true;
        heloName = null;
        extended = false;
        identity = null;
        transaction = null;
        state = State.CONNECTED;
    }

    private Action auth(Command.Auth auth) {
        switch (auth.mechanism()) {
            case "PLAIN" -> {
                if (auth.initialResponse() == null) {
                    state = State.AUTH_PLAIN;
                    return send(Reply.of(334, null, ""));
                }
                return plainResponse(auth.initialResponse().getBytes(StandardCharsets.US_ASCII));
            }
            case "LOGIN" -> {
                if (auth.initialResponse() == null) {
                    state = State.AUTH_LOGIN_USER;
                    return send(Reply.of(334, null, "VXNlcm5hbWU6"));
                }
                return loginUser(auth.initialResponse().getBytes(StandardCharsets.US_ASCII));
            }
            default -> {
                return error(Replies.UNSUPPORTED_MECHANISM);
            }
        }
    }

    private Action plainResponse(byte[] line) {
        state = State.READY;
        String decoded = SaslDecoding.decode(line);
        if (decoded == null) {
            return SaslDecoding.isCancel(line) ? error(Replies.AUTH_CANCELLED) : error(Replies.AUTH_MALFORMED);
        }
        String[] parts = decoded.split("\u0000", -1);
        if (parts.length != 3 || parts[1].isEmpty()) {
            return error(Replies.AUTH_MALFORMED);
        }
        if (!parts[0].isEmpty() && !parts[0].equals(parts[1])) {
            return error(Replies.AUTH_FAILED); // no proxy authorization
        }
        state = State.AUTH_CHECKING;
        return new Action.VerifyPassword("PLAIN", parts[1], parts[2]);
    }

    private Action loginUser(byte[] line) {
        String user = SaslDecoding.decode(line);
        if (user == null || user.isEmpty()) {
            state = State.READY;
            return SaslDecoding.isCancel(line) ? error(Replies.AUTH_CANCELLED) : error(Replies.AUTH_MALFORMED);
        }
        pendingLoginUser = user;
        state = State.AUTH_LOGIN_PASSWORD;
        return send(Reply.of(334, null, "UGFzc3dvcmQ6"));
    }

    private Action loginPassword(byte[] line) {
        String password = SaslDecoding.decode(line);
        String user = pendingLoginUser;
        pendingLoginUser = null;
        if (password == null) {
            state = State.READY;
            return SaslDecoding.isCancel(line) ? error(Replies.AUTH_CANCELLED) : error(Replies.AUTH_MALFORMED);
        }
        state = State.AUTH_CHECKING;
        return new Action.VerifyPassword("LOGIN", user, password);
    }

    public Action onAuthResult(AuthResult result) {
        state = State.READY;
        if (result instanceof AuthResult.Success success) {
            identity = success.identity();
            return send(Replies.AUTH_OK);
        }
        return result instanceof AuthResult.Invalid ? error(Replies.AUTH_FAILED) : send(Replies.AUTH_UNAVAILABLE);
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
            state = State.CLOSED;
            return new Action.SendAndClose(Replies.TOO_MANY_ERRORS);
        }
        return new Action.Send(reply);
    }

    public boolean inData() {
        return state == State.DATA;
    }

    /** Between transactions, with nothing outstanding: the session may be closed without losing anything. */
    public boolean idle() {
        return transaction == null && (state == State.CONNECTED || state == State.READY);
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
