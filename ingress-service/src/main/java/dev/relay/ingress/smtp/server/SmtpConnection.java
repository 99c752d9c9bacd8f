package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.Printable;
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
 * The only code that touches an SMTP socket: frames bytes into lines (only CRLF ends a line; a bare LF in the
 * command phase closes the session, so text after it is never executed), feeds DATA bytes to the decoder and BDAT
 * chunks to their buffer, performs the session's actions, and holds further input while an asynchronous action
 * (AUTH check, Kafka publish, TLS handshake) is in progress, so that pipelined commands are answered strictly in
 * order. Every byte a client can make it hold is bounded: input held while commands wait (an action in progress,
 * or replies the client does not read) up to {@code maxPipelinedBytes}, then 421 4.7.0 and close. Also enforces the
 * command and data timeouts, the minimum data rate over a sliding window and the longest message transfer
 * (421 4.4.2).
 */
final class SmtpConnection {

    private static final Logger LOG = Logger.getLogger(SmtpConnection.class);
    private static final long TICK_MS = 1000;
    /** Octets of one over-long command or SASL line discarded before the client is closed (4 AUTH lines' worth). */
    static final long MAX_DISCARDED_LINE = 4L * SmtpSession.MAX_AUTH_LINE;

    private final NetSocket socket;
    private final SmtpSession session;
    private final Listener listener;
    private final ConnectionServices services;
    private final String client;
    private final Runnable onClose;
    private final Context context = Vertx.currentContext();
    private final long openedAt = System.nanoTime();
    private final TransferClock clock;

    private Buffer pending = Buffer.buffer();
    private InputMode mode = InputMode.LINES;
    /** The decoder of the DATA content being read (mode DATA). */
    private DataDecoder decoder;
    /** The BDAT chunk being read (mode CHUNK), and how many of its octets are still to come. */
    private Action.ReadChunk chunk;
    private long chunkRemaining;
    /** Octets of the over-long line being discarded so far; past {@link #MAX_DISCARDED_LINE} the client is closed. */
    private long discardedLine;
    private boolean draining;
    /** The socket's write queue is full (the client does not read its replies): no further command is executed. */
    private boolean writeBlocked;
    private String lastVerb = "CONNECT";
    private long timer = -1;

    /** @param onClose called once when the socket is closed, whoever closed it */
    SmtpConnection(NetSocket socket, SmtpSession session, Listener listener, String client,
                   ConnectionServices services, Runnable onClose) {
        this.socket = socket;
        this.session = session;
        this.listener = listener;
        this.client = client;
        this.services = services;
        this.onClose = onClose;
        this.clock = new TransferClock(services.timeouts());
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
        pending.appendBuffer(bytes);
        if ((mode == InputMode.WAITING || writeBlocked) && pending.length() > services.maxPipelinedBytes()) {
            LOG.debugf("closing session from %s: %d bytes pipelined while commands wait", client, pending.length());
            pending = Buffer.buffer();
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
            if (mode == InputMode.CHUNK) {
                if (!feedChunk()) {
                    return;
                }
                continue;
            }
            if (mode == InputMode.DATA) {
                if (!feedData()) {
                    return;
                }
                continue;
            }
            if (writeBlocked) {
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
        mode = InputMode.LINES;
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
        mode = InputMode.LINES;
        lastVerb = "BDAT";
        if (done.last() && done.buffer() != null) {
            services.metrics().messageSize(done.buffer().size());
        }
        perform(done.last() ? counted(session.onChunk(done)) : session.onChunk(done));
        return true;
    }

    /**
     * RFC 2920 §3.1: a command that ends a pipelined group ({@link Verbs#endsGroup}) followed by more before its
     * reply is not SMTP (spam engines, smuggling probes). Enforced for clients that have not authenticated, as
     * Postfix's smtpd_forbid_unauth_pipelining does.
     */
    private boolean improperlyPipelined() {
        return pending.length() > 0 && session.identity() == null && !session.awaitingAuthResponse()
                && Verbs.endsGroup(lastVerb);
    }

    /**
     * The next complete line without its CRLF, or null. A bare LF (not after CR) never ends a line here and is
     * never skipped: the session refuses it and closes, so neither the text before it nor the text after it is
     * executed (a line split differently by a front end and by us is how commands are smuggled).
     */
    private byte[] nextLine() {
        int length = pending.length();
        for (int i = 0; i < length; i++) {
            if (pending.getByte(i) != '\n') {
                continue;
            }
            boolean crlf = i > 0 && pending.getByte(i - 1) == '\r';
            if (!crlf) {
                pending = Buffer.buffer();
                mode = InputMode.LINES;
                perform(session.onBareLineFeed());
                return null;
            }
            int limit = lineLimit();
            byte[] line = pending.getBytes(0, i - 1);
            pending = pending.getBuffer(i + 1, length);
            if (mode == InputMode.DISCARDING_LINE || line.length > limit) {
                mode = InputMode.LINES;
                discardedLine = 0;
                perform(session.onLineTooLong());
                return mode == InputMode.CLOSED ? null : nextLine();
            }
            lastVerb = Verbs.of(line);
            return line;
        }
        if (length > lineLimit()) {
            // An over-long line is discarded and answered at its end, so a client that made one mistake keeps its
            // session; a line that never ends is not a mistake: beyond the bound, answer and close.
            mode = InputMode.DISCARDING_LINE;
            discardedLine += length;
            pending = Buffer.buffer();
            if (discardedLine > MAX_DISCARDED_LINE) {
                closeWith(Replies.ENDLESS_LINE);
            }
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
            write(send.reply());
        } else if (action instanceof Action.SendAndClose close) {
            write(close.reply());
            close();
        } else if (action instanceof Action.ReadData read) {
            write(read.reply());
            decoder = read.decoder();
            mode = InputMode.DATA;
            clock.startMessage();
        } else if (action instanceof Action.ReadChunk read) {
            chunk = read;
            chunkRemaining = read.size();
            mode = InputMode.CHUNK;
            clock.startMessage();
        } else if (action instanceof Action.StartTls startTls) {
            startTls(startTls.reply());
        } else if (action instanceof Action.Verify verify) {
            hold();
            services.verify(session, client, verify.credentials(), this::release);
        } else if (action instanceof Action.Publish publish) {
            hold();
            services.publish(session, publish, this::release);
        }
    }

    private void startTls(Reply reply) {
        mode = InputMode.WAITING;
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

    private void write(Reply reply) {
        services.metrics().command(lastVerb, reply.replyClass());
        socket.write(Buffer.buffer(reply.toBytes()));
        if (!writeBlocked && socket.writeQueueFull()) {
            // the client does not read its replies: execute nothing more until it does (onBytes bounds the input)
            writeBlocked = true;
            socket.drainHandler(v -> {
                writeBlocked = false;
                socket.drainHandler(null);
                processInput();
            });
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
        services.metrics().sessionClosed();
        LOG.infof("session listener=%s client=%s helo=%s tls=%s user=%s queued=%s errors=%d duration=%dms",
                listener.tag(), client, Printable.forLog(session.heloName()), session.tls(),
                session.identity() == null ? "-" : session.identity().username(), session.queuedIds(),
                session.errors(), (System.nanoTime() - openedAt) / 1_000_000);
    }
}
