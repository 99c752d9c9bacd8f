package dev.relay.ingress.smtp.server;

import dev.relay.ingress.auth.KeycloakPasswordVerifier;
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
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * The only code that touches an SMTP socket: frames bytes into lines (CRLF; a bare LF is handed on inside the
 * line so the parser refuses it), feeds DATA bytes to the decoder, performs the session's actions, and holds
 * further input while an asynchronous action (AUTH check, Kafka publish, TLS handshake) is in progress, so that
 * pipelined commands are answered strictly in order.
 */
final class SmtpConnection {

    private static final Logger LOG = Logger.getLogger(SmtpConnection.class);

    private final NetSocket socket;
    private final SmtpSession session;
    private final Listener listener;
    private final KeycloakPasswordVerifier verifier;
    private final KafkaInboundPublisher publisher;
    private final IngressMetrics metrics;
    private final Runnable onClose;
    private final Context context = Vertx.currentContext();
    private final long openedAt = System.nanoTime();

    private Buffer pending = Buffer.buffer();
    private DataDecoder decoder;
    private boolean busy;
    private boolean discardingLongLine;
    private boolean closed;
    private boolean draining;
    private String lastVerb = "CONNECT";

    /** @param onClose called once when the socket is closed, whoever closed it */
    SmtpConnection(NetSocket socket, SmtpSession session, Listener listener, KeycloakPasswordVerifier verifier,
                   KafkaInboundPublisher publisher, IngressMetrics metrics, Runnable onClose) {
        this.socket = socket;
        this.session = session;
        this.listener = listener;
        this.verifier = verifier;
        this.publisher = publisher;
        this.metrics = metrics;
        this.onClose = onClose;
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
        if (draining && !closed && !busy && decoder == null && session.idle()) {
            perform(new Action.SendAndClose(Replies.SHUTTING_DOWN));
        }
    }

    void start() {
        metrics.sessionOpened(listener.tag());
        socket.handler(this::onBytes);
        socket.closeHandler(v -> onClosed());
        socket.exceptionHandler(e -> LOG.debugf("socket error from %s: %s", socket.remoteAddress(), e.toString()));
        perform(session.greet());
    }

    private void onBytes(Buffer bytes) {
        pending.appendBuffer(bytes);
        processInput();
    }

    private void processInput() {
        while (!busy && !closed) {
            closeIfDrainedAndIdle();
            if (closed) {
                return;
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
        metrics.messageSize(done.size());
        lastVerb = "DATA";
        perform(session.onDataEnd(done));
        return true;
    }

    /** The next complete line without its CRLF (a bare LF stays in it, for the parser to refuse), or null. */
    private byte[] nextLine() {
        int length = pending.length();
        for (int i = 0; i < length; i++) {
            if (pending.getByte(i) != '\n') {
                continue;
            }
            boolean crlf = i > 0 && pending.getByte(i - 1) == '\r';
            byte[] line = pending.getBytes(0, crlf ? i - 1 : i + 1);
            pending = pending.getBuffer(i + 1, length);
            if (discardingLongLine) {
                discardingLongLine = false;
                perform(session.onLineTooLong());
                return nextLine();
            }
            if (line.length > session.maxLineLength()) {
                perform(session.onLineTooLong());
                return nextLine();
            }
            lastVerb = verbOf(line);
            return line;
        }
        if (length > session.maxLineLength()) {
            discardingLongLine = true;
            pending = Buffer.buffer();
        }
        return null;
    }

    private void perform(Action action) {
        if (closed) {
            return;
        }
        if (action instanceof Action.Send send) {
            write(send.reply());
        } else if (action instanceof Action.SendAndClose close) {
            write(close.reply());
            closed = true;
            socket.end();
        } else if (action instanceof Action.ReadData read) {
            write(read.reply());
            decoder = read.decoder();
        } else if (action instanceof Action.StartTls startTls) {
            startTls(startTls.reply());
        } else if (action instanceof Action.VerifyPassword verify) {
            verifyPassword(verify);
        } else if (action instanceof Action.Publish publish) {
            publish(publish);
        }
    }

    private void startTls(Reply reply) {
        busy = true;
        metrics.command("STARTTLS", reply.replyClass());
        socket.write(Buffer.buffer(reply.toBytes()), written -> {
            // RFC 3207 §4.2 / CVE-2011-0411: nothing the client sent before the handshake may be executed.
            pending = Buffer.buffer();
            socket.upgradeToSsl(done -> {
                if (done.failed()) {
                    LOG.debugf("TLS handshake failed from %s: %s", socket.remoteAddress(), done.cause().toString());
                    closed = true;
                    socket.close();
                    return;
                }
                session.onTlsStarted();
                busy = false;
                processInput();
            });
        });
    }

    private void verifyPassword(Action.VerifyPassword verify) {
        hold();
        verifier.verify(verify.username(), verify.password()).onComplete(done -> {
            AuthResult result = done.succeeded() ? done.result() : new AuthResult.Unavailable("error");
            metrics.auth(verify.mechanism(), result.getClass().getSimpleName().toLowerCase());
            release(session.onAuthResult(result));
        });
    }

    private void publish(Action.Publish publish) {
        hold();
        String id = publish.envelope().messageId();
        Timer.Sample sample = metrics.startPublish();
        publisher.publish(publish.envelope(), publish.message()).onComplete(done -> {
            metrics.publishDone(sample, done.succeeded());
            metrics.message(done.succeeded() ? "accepted" : "temp_failed");
            MDC.put("messageId", id);
            try {
                if (done.succeeded()) {
                    LOG.infof("accepted %s from=<%s> nrcpt=%d size=%d", id, publish.envelope().mailFrom(),
                            publish.envelope().recipients().size(), publish.message().length);
                }
            } finally {
                MDC.remove("messageId");
            }
            release(session.onPublished(done.succeeded()));
        });
    }

    private void hold() {
        busy = true;
        socket.pause();
    }

    private void release(Action next) {
        busy = false;
        perform(next);
        closeIfDrainedAndIdle();
        if (!closed) {
            socket.resume();
            processInput();
        }
    }

    private void write(Reply reply) {
        metrics.command(lastVerb, reply.replyClass());
        socket.write(Buffer.buffer(reply.toBytes()));
    }

    private void onClosed() {
        closed = true;
        onClose.run();
        metrics.sessionClosed();
        LOG.infof("session listener=%s client=%s helo=%s tls=%s user=%s queued=%s errors=%d duration=%dms",
                listener.tag(), socket.remoteAddress() == null ? "?" : socket.remoteAddress().hostAddress(),
                session.heloName(), session.tls(), session.identity() == null ? "-" : session.identity().username(),
                session.queuedIds(), session.errors(), (System.nanoTime() - openedAt) / 1_000_000);
    }

    private static String verbOf(byte[] line) {
        int n = 0;
        while (n < line.length && n < 8 && line[n] != ' ') {
            n++;
        }
        String verb = new String(line, 0, n, java.nio.charset.StandardCharsets.US_ASCII).toUpperCase();
        return switch (verb) {
            case "EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "HELP", "STARTTLS", "AUTH" ->
                    verb;
            default -> "OTHER";
        };
    }
}
