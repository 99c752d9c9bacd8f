package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.MessageBuffer;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;
import dev.relay.ingress.smtp.session.Action;
import dev.relay.ingress.smtp.session.Listener;
import dev.relay.ingress.smtp.session.SmtpSession;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.jboss.logging.Logger;

/**
 * The only code that touches an SMTP socket: its {@link InputMode} says what the next bytes are, {@link InputFramer}
 * cuts them into lines (only CRLF ends one; a bare LF closes the session, so text after it is never executed), DATA
 * and BDAT chunks; it performs the session's actions (replies through {@link ReplyWriter}, AUTH checks and publishing
 * through {@link ConnectionServices}) and holds further input while one of them (or a TLS handshake) is in progress,
 * so that pipelined commands are answered strictly in order. Every byte a client can make it hold is bounded: input
 * held while commands wait (an action in progress, or replies the client does not read) up to
 * {@code maxPipelinedBytes}, then 421 4.7.0 and close. Also enforces the command and data timeouts, the minimum data
 * rate over a sliding window and the longest message transfer (421 4.4.2).
 *
 * <p>It is a little longer than 300 lines because the order of input, holds and replies of one connection lives
 * here alone; the events of the connection (its refusals and accepted messages) are {@link ConnectionEvents}'.
 */
final class SmtpConnection {

    private static final Logger LOG = Logger.getLogger(SmtpConnection.class);
    private static final long TICK_MS = 1000;

    private final NetSocket socket;
    private final SmtpSession session;
    private final Listener listener;
    private final ConnectionServices services;
    private final ConnectionEvents events;
    private final String client;
    private final Runnable onClose;
    private final Context context = Vertx.currentContext();
    private final long openedAt = System.nanoTime();
    private final TransferClock clock;

    private final InputFramer input = new InputFramer();
    private InputMode mode = InputMode.LINES;
    private final ReplyWriter replies;
    private boolean draining;
    private long timer = -1;

    /** @param onClose called once when the socket is closed, whoever closed it */
    SmtpConnection(NetSocket socket, SmtpSession session, Listener listener, String client,
                   ConnectionServices services, ConnectionEvents events, Runnable onClose) {
        this.events = events;
        this.socket = socket;
        this.session = session;
        this.listener = listener;
        this.client = client;
        this.services = services;
        this.onClose = onClose;
        this.clock = new TransferClock(services.timeouts());
        this.replies = new ReplyWriter(socket, services.metrics(), this::processInput);
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
        if (draining && mode.readsLines() && session.idle()) {
            closeWith(Replies.SHUTTING_DOWN);
        }
    }

    private void onBytes(Buffer bytes) {
        if (mode == InputMode.CLOSED) {
            return;
        }
        clock.read(bytes.length(), inMessage());
        input.append(bytes);
        if ((mode == InputMode.WAITING || replies.blocked()) && input.length() > services.maxPipelinedBytes()) {
            LOG.debugf("closing session from %s: %d bytes pipelined while commands wait", client, input.length());
            input.clear();
            closeWith(Replies.PIPELINING_FLOOD);
            return;
        }
        processInput();
    }

    /** From the first byte of a message to its end: while the session holds message bytes, across BDAT chunks. */
    private boolean inMessage() {
        return mode.readsMessage() || session.holdsMessage();
    }

    private void processInput() {
        while (mode != InputMode.WAITING && mode != InputMode.CLOSED) {
            closeIfDrainedAndIdle();
            if (mode == InputMode.CLOSED) {
                return;
            }
            if (mode.readsMessage()) {
                if (!messageEnded()) {
                    return;
                }
                continue;
            }
            if (replies.blocked()) {
                return; // resumed by the drain handler; meanwhile onBytes bounds what piles up
            }
            byte[] line = nextLine();
            if (line == null) {
                return;
            }
            if (improperlyPipelined()) {
                closeWith(Replies.PIPELINING_VIOLATION);
                return;
            }
            perform(session.onLine(line));
        }
    }

    /** Feeds pending bytes to the DATA decoder or BDAT chunk; true when it ended and line processing may go on. */
    private boolean messageEnded() {
        DataDecoder data = mode == InputMode.DATA ? input.feedData() : null;
        Action.ReadChunk chunk = mode == InputMode.CHUNK ? input.feedChunk() : null;
        if (data == null && chunk == null) {
            return false;
        }
        mode = InputMode.LINES;
        replies.answering(data != null ? "DATA" : "BDAT");
        MessageBuffer message = data != null ? data.buffer() : chunk.last() ? chunk.buffer() : null;
        if (message != null) {
            services.metrics().messageSize(message.size());
        }
        Action next = data != null ? session.onDataEnd(data) : session.onChunk(chunk);
        perform(data != null || chunk.last() ? services.endOfMessage(next) : next);
        return true;
    }

    /**
     * RFC 2920 §3.1: a command that ends a pipelined group ({@link Verbs#endsGroup}) followed by more before its
     * reply is not SMTP (spam engines, smuggling probes). Enforced for clients that have not authenticated, as
     * Postfix's smtpd_forbid_unauth_pipelining does.
     */
    private boolean improperlyPipelined() {
        return input.length() > 0 && session.identity() == null && !session.awaitingAuthResponse()
                && Verbs.endsGroup(replies.verb());
    }

    /** The next complete command or SASL line (see {@link InputFramer#nextLine}), or null. */
    private byte[] nextLine() {
        while (true) {
            InputFramer.Cut cut = input.nextLine(mode == InputMode.DISCARDING_LINE, session.maxLineLength());
            if (cut instanceof InputFramer.Cut.Line line) {
                replies.answering(Verbs.of(line.bytes()));
                return line.bytes();
            }
            if (cut instanceof InputFramer.Cut.Incomplete incomplete) {
                if (incomplete.discarding()) {
                    mode = InputMode.DISCARDING_LINE;
                }
                if (incomplete.endless()) {
                    closeWith(Replies.ENDLESS_LINE);
                }
                return null;
            }
            mode = InputMode.LINES;
            boolean bareLineFeed = cut instanceof InputFramer.Cut.BareLineFeed;
            perform(bareLineFeed ? session.onBareLineFeed() : session.onLineTooLong());
            if (bareLineFeed || mode == InputMode.CLOSED) {
                return null;
            }
        }
    }

    private void perform(Action action) {
        if (mode == InputMode.CLOSED) {
            return;
        }
        act(action);
        if (!inMessage()) {
            clock.noMessage(); // the message ended (published or refused) or none started
        }
    }

    private void act(Action action) {
        if (action instanceof Action.Send send) {
            replies.write(send.reply());
        } else if (action instanceof Action.SendAndClose close) {
            replies.write(close.reply());
            close();
        } else if (action instanceof Action.ReadData read) {
            replies.write(read.reply());
            input.startData(read.decoder());
            mode = InputMode.DATA;
            clock.startMessage();
        } else if (action instanceof Action.ReadChunk read) {
            input.startChunk(read);
            mode = InputMode.CHUNK;
            clock.startMessage();
        } else if (action instanceof Action.StartTls startTls) {
            startTls(startTls.reply());
        } else if (action instanceof Action.Verify verify) {
            hold();
            services.verify(session, client, verify.credentials(), this::release);
        } else if (action instanceof Action.Publish publish) {
            hold();
            services.publish(session, publish, events, this::release);
        }
    }

    private void startTls(Reply reply) {
        mode = InputMode.WAITING;
        replies.writeStartTls(reply, written -> {
            // RFC 3207 §4.2 / CVE-2011-0411: nothing the client sent before the handshake may be executed.
            input.clear();
            socket.upgradeToSsl(done -> {
                if (done.failed()) {
                    LOG.debugf("TLS handshake failed from %s: %s", client, done.cause().toString());
                    close();
                    return;
                }
                session.onTlsStarted();
                stopWaiting();
                processInput();
            });
        });
    }

    /** An asynchronous action starts: input is held (and the socket paused) until {@link #release}. */
    private void hold() {
        mode = InputMode.WAITING;
        socket.pause();
    }

    private void release(Action next) {
        stopWaiting();
        perform(next);
        closeIfDrainedAndIdle();
        if (mode != InputMode.CLOSED) {
            socket.resume();
            processInput();
        }
    }

    /** Back to reading lines, unless the connection was closed meanwhile. */
    private void stopWaiting() {
        if (mode == InputMode.WAITING) {
            mode = InputMode.LINES;
        }
    }

    /** Runs every second on this connection's event loop: the verdict of {@link TransferClock}. */
    private void checkTimeouts() {
        if (mode == InputMode.CLOSED || mode == InputMode.WAITING) {
            return;
        }
        Reply verdict = clock.verdict(inMessage());
        if (verdict != null) {
            LOG.debugf("closing session from %s: %s", client, verdict);
            closeWith(verdict);
        }
    }

    /** Closes for a reason of the edge's own (timeout, flood, shutdown): the session gives back what it holds. */
    private void closeWith(Reply reply) {
        session.onClosing();
        perform(new Action.SendAndClose(reply));
    }

    private void close() {
        mode = InputMode.CLOSED;
        socket.end();
    }

    private void onClosed() {
        if (timer >= 0) {
            services.vertx().cancelTimer(timer);
        }
        mode = InputMode.CLOSED;
        session.onClosed(); // gives back the message being received, if any (the one release path)
        onClose.run();
        services.sessionClosed(listener, client, session, openedAt);
    }
}
