package dev.relay.ingress.smtp.server;

import dev.relay.ingress.auth.CredentialVerifier;
import dev.relay.ingress.auth.SaslBearerParser;
import dev.relay.ingress.metrics.IngressMetrics;
import dev.relay.ingress.publish.KafkaInboundPublisher;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;
import dev.relay.ingress.smtp.session.Action;
import dev.relay.ingress.smtp.session.AuthResult;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.ingress.smtp.session.SmtpSession;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.nio.charset.StandardCharsets;

/**
 * The only code that touches an SMTP socket: frames bytes into lines (CRLF; a bare LF is handed on inside the
 * line so the parser refuses it), feeds DATA bytes to the decoder and BDAT chunks to their buffer, performs the
 * session's actions, and holds further input while an asynchronous action (AUTH check, Kafka publish, TLS
 * handshake) is in progress, so that pipelined commands are answered strictly in order. Also enforces the
 * command and data timeouts and the minimum data rate (421 4.4.2).
 */
final class SmtpConnection {

    private static final Logger LOG = Logger.getLogger(SmtpConnection.class);
    private static final long TICK_MS = 1000;
    private static final java.util.Set<String> GROUP_ENDERS =
            java.util.Set.of("EHLO", "HELO", "DATA", "VRFY", "QUIT", "NOOP", "AUTH");

    /** What every connection shares. */
    record Services(Vertx vertx, CredentialVerifier credentials, KafkaInboundPublisher publisher,
                    IngressMetrics metrics, ConnectionTimeouts timeouts) {
    }

    private final NetSocket socket;
    private final SmtpSession session;
    private final Listener listener;
    private final Services services;
    private final String client;
    private final Runnable onClose;
    private final Context context = Vertx.currentContext();
    private final long openedAt = System.nanoTime();

    private Buffer pending = Buffer.buffer();
    private DataDecoder decoder;
    private Action.ReadChunk chunk;
    private long chunkRemaining;
    private boolean busy;
    private boolean discardingLongLine;
    private boolean closed;
    private boolean draining;
    private String lastVerb = "CONNECT";
    private long lastReadAt = System.nanoTime();
    private long messageStartedAt;
    private long messageBytes;
    private long timer = -1;

    /** @param onClose called once when the socket is closed, whoever closed it */
    SmtpConnection(NetSocket socket, SmtpSession session, Listener listener, String client, Services services,
                   Runnable onClose) {
        this.socket = socket;
        this.session = session;
        this.listener = listener;
        this.client = client;
        this.services = services;
        this.onClose = onClose;
    }

    /** @param early bytes that arrived before the session started (behind a PROXY header); usually none */
    void start(Buffer early) {
        services.metrics().sessionOpened(listener.tag());
        socket.handler(this::onBytes);
        socket.closeHandler(v -> onClosed());
        socket.exceptionHandler(e -> LOG.debugf("socket error from %s: %s", client, e.toString()));
        timer = services.vertx().setPeriodic(TICK_MS, id -> checkTimeouts());
        perform(session.greet());
        if (early.length() > 0) {
            onBytes(early);
        }
    }

    /**
     * The server is shutting down: an idle session is closed now with 421 4.3.2; a session inside a transaction
     * is closed the same way as soon as its transaction has been answered. Safe to call from any thread.
     */
    void drain() {
        context.runOnContext(v -> {
            draining = true;
            closeIfDrainedAndIdle();
        });
    }

    private void closeIfDrainedAndIdle() {
        if (draining && !closed && !busy && decoder == null && chunk == null && session.idle()) {
            perform(new Action.SendAndClose(Replies.SHUTTING_DOWN));
        }
    }

    private void onBytes(Buffer bytes) {
        lastReadAt = System.nanoTime();
        if (decoder != null || chunk != null) {
            messageBytes += bytes.length();
        }
        pending.appendBuffer(bytes);
        processInput();
    }

    private void processInput() {
        while (!busy && !closed) {
            closeIfDrainedAndIdle();
            if (closed) {
                return;
            }
            if (chunk != null) {
                if (!feedChunk()) {
                    return;
                }
                continue;
            }
            if (decoder != null) {
                if (!feedData()) {
                    return;
                }
                continue;
            }
            byte[] line = nextLine();
            if (line == null) {
                return;
            }
            if (improperlyPipelined()) {
                perform(new Action.SendAndClose(Replies.PIPELINING_VIOLATION));
                return;
            }
            perform(session.onLine(line));
        }
    }

    /** Feeds pending bytes to the DATA decoder; true when the data ended and line processing may go on. */
    private boolean feedData() {
        byte[] bytes = pending.getBytes();
        int end = decoder.feed(bytes, 0, bytes.length);
        if (end < 0) {
            pending = Buffer.buffer();
            return false;
        }
        pending = Buffer.buffer().appendBytes(bytes, end, bytes.length - end);
        DataDecoder done = decoder;
        decoder = null;
        services.metrics().messageSize(done.buffer().size());
        lastVerb = "DATA";
        perform(counted(session.onDataEnd(done)));
        return true;
    }

    /** At the end of a message: anything but a publish is a refusal of its content. */
    private Action counted(Action endOfMessage) {
        if (!(endOfMessage instanceof Action.Publish)) {
            services.metrics().message("rejected");
        }
        return endOfMessage;
    }

    /** Moves up to the rest of the current BDAT chunk from pending into its buffer; true when it is complete. */
    private boolean feedChunk() {
        int take = (int) Math.min(chunkRemaining, pending.length());
        if (chunk.buffer() != null && take > 0) {
            chunk.buffer().write(pending.getBytes(0, take), 0, take);
        }
        pending = pending.getBuffer(take, pending.length());
        chunkRemaining -= take;
        if (chunkRemaining > 0) {
            return false;
        }
        Action.ReadChunk done = chunk;
        chunk = null;
        lastVerb = "BDAT";
        if (done.last() && done.buffer() != null) {
            services.metrics().messageSize(done.buffer().size());
        }
        perform(done.last() ? counted(session.onChunk(done)) : session.onChunk(done));
        return true;
    }

    /**
     * RFC 2920 §3.1: EHLO, HELO, DATA, VRFY, QUIT, NOOP and AUTH end a pipelined group; a client that sends more
     * before their reply is not speaking SMTP (spam engines, smuggling probes). Enforced for clients that have
     * not authenticated, as Postfix's smtpd_forbid_unauth_pipelining does.
     */
    private boolean improperlyPipelined() {
        return pending.length() > 0 && session.identity() == null && !session.awaitingAuthResponse()
                && GROUP_ENDERS.contains(lastVerb);
    }

    /** The next complete line without its CRLF (a bare LF stays in it, for the parser to refuse), or null. */
    private byte[] nextLine() {
        int length = pending.length();
        for (int i = 0; i < length; i++) {
            if (pending.getByte(i) != '\n') {
                continue;
            }
            boolean crlf = i > 0 && pending.getByte(i - 1) == '\r';
            int limit = lineLimit();
            byte[] line = pending.getBytes(0, crlf ? i - 1 : i + 1);
            pending = pending.getBuffer(i + 1, length);
            if (discardingLongLine || line.length > limit) {
                discardingLongLine = false;
                perform(session.onLineTooLong());
                return closed ? null : nextLine();
            }
            lastVerb = verbOf(line);
            return line;
        }
        if (length > lineLimit()) {
            discardingLongLine = true;
            pending = Buffer.buffer();
        }
        return null;
    }

    /** RFC 4954 §4: an AUTH command with its initial response may be as long as a SASL response line. */
    private int lineLimit() {
        boolean auth = pending.length() >= 5
                && pending.getString(0, 5, "US-ASCII").equalsIgnoreCase("AUTH ");
        return auth ? SmtpSession.MAX_AUTH_LINE : session.maxLineLength();
    }

    private void perform(Action action) {
        if (closed) {
            return;
        }
        if (action instanceof Action.Send send) {
            write(send.reply());
        } else if (action instanceof Action.SendAndClose close) {
            write(close.reply());
            close();
        } else if (action instanceof Action.ReadData read) {
            write(read.reply());
            decoder = read.decoder();
            startMessage();
        } else if (action instanceof Action.ReadChunk read) {
            chunk = read;
            chunkRemaining = read.size();
            startMessage();
        } else if (action instanceof Action.StartTls startTls) {
            startTls(startTls.reply());
        } else if (action instanceof Action.VerifyPassword verify) {
            authenticate(verify.mechanism(), services.credentials().verifyPassword(client, verify.username(),
                    verify.password()));
        } else if (action instanceof Action.VerifyToken verify) {
            authenticate(verify.mechanism(), services.credentials().verifyToken(client, token(verify)));
        } else if (action instanceof Action.Publish publish) {
            publish(publish);
        }
    }

    private static String token(Action.VerifyToken verify) {
        return verify.mechanism().equals("XOAUTH2") ? SaslBearerParser.xoauth2Token(verify.saslPayload())
                : SaslBearerParser.oauthbearerToken(verify.saslPayload());
    }

    private void startMessage() {
        if (messageStartedAt == 0) {
            messageStartedAt = System.nanoTime();
            messageBytes = 0;
        }
    }

    private void startTls(Reply reply) {
        busy = true;
        services.metrics().command("STARTTLS", reply.replyClass());
        socket.write(Buffer.buffer(reply.toBytes()), written -> {
            // RFC 3207 §4.2 / CVE-2011-0411: nothing the client sent before the handshake may be executed.
            pending = Buffer.buffer();
            socket.upgradeToSsl(done -> {
                if (done.failed()) {
                    LOG.debugf("TLS handshake failed from %s: %s", client, done.cause().toString());
                    close();
                    return;
                }
                session.onTlsStarted();
                busy = false;
                processInput();
            });
        });
    }

    private void authenticate(String mechanism, Future<AuthResult> verification) {
        hold();
        verification.onComplete(done -> {
            AuthResult result = done.succeeded() ? done.result() : new AuthResult.Unavailable("error");
            services.metrics().auth(mechanism, result.getClass().getSimpleName().toLowerCase());
            release(session.onAuthResult(result));
        });
    }

    private void publish(Action.Publish publish) {
        hold();
        messageStartedAt = 0;
        String id = publish.envelope().messageId();
        Timer.Sample sample = services.metrics().startPublish();
        services.publisher().publish(publish.envelope(), publish.message()).onComplete(done -> {
            services.metrics().publishDone(sample, done.succeeded());
            services.metrics().message(done.succeeded() ? "accepted" : "temp_failed");
            if (done.succeeded()) {
                MDC.put("messageId", id);
                try {
                    LOG.infof("accepted %s from=<%s> nrcpt=%d size=%d", id, publish.envelope().mailFrom(),
                            publish.envelope().recipients().size(), publish.message().length);
                } finally {
                    MDC.remove("messageId");
                }
            }
            release(session.onPublished(publish, done.succeeded()));
        });
    }

    private void hold() {
        busy = true;
        socket.pause();
    }

    private void release(Action next) {
        busy = false;
        if (!(next instanceof Action.ReadData) && !(next instanceof Action.ReadChunk)) {
            messageStartedAt = 0;
        }
        perform(next);
        closeIfDrainedAndIdle();
        if (!closed) {
            socket.resume();
            processInput();
        }
    }

    /** Runs every second on this connection's event loop: command timeout, data timeout, minimum data rate. */
    private void checkTimeouts() {
        if (closed || busy) {
            return;
        }
        long now = System.nanoTime();
        boolean inMessage = decoder != null || chunk != null;
        Reply verdict = services.timeouts().verdict(inMessage, now - lastReadAt,
                inMessage ? now - messageStartedAt : 0, messageBytes);
        if (verdict != null) {
            LOG.debugf("closing session from %s: %s", client, verdict);
            perform(new Action.SendAndClose(verdict));
        }
    }

    private void write(Reply reply) {
        services.metrics().command(lastVerb, reply.replyClass());
        socket.write(Buffer.buffer(reply.toBytes()));
    }

    private void close() {
        closed = true;
        socket.end();
    }

    private void onClosed() {
        if (timer >= 0) {
            services.vertx().cancelTimer(timer);
        }
        closed = true;
        if (decoder != null) {
            decoder.buffer().release();
        }
        session.onClosed();
        onClose.run();
        services.metrics().sessionClosed();
        LOG.infof("session listener=%s client=%s helo=%s tls=%s user=%s queued=%s errors=%d duration=%dms",
                listener.tag(), client, session.heloName(), session.tls(),
                session.identity() == null ? "-" : session.identity().username(), session.queuedIds(),
                session.errors(), (System.nanoTime() - openedAt) / 1_000_000);
    }

    private static String verbOf(byte[] line) {
        int n = 0;
        while (n < line.length && n < 8 && line[n] != ' ') {
            n++;
        }
        String verb = new String(line, 0, n, StandardCharsets.US_ASCII).toUpperCase();
        return switch (verb) {
            case "EHLO", "HELO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "HELP", "STARTTLS",
                    "AUTH" -> verb;
            default -> "OTHER";
        };
    }
}
