package dev.relay.delivery.transport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import dev.relay.common.net.IpLiteral;
import dev.relay.delivery.destination.Throttling;

import dev.relay.delivery.tls.CertificateCheck;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509TrustManager;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * The only class in the transport that touches the socket: writes commands and bytes, reads complete replies,
 * and enforces a timeout on every wait. Replies are read one at a time and in order; with PIPELINING several
 * commands go out in one write ({@link #writeLines}) and their replies are then read one after the other. Every
 * method is called on the connection's own event loop ({@link #onLoop}; the futures it returns complete there);
 * nothing here blocks.
 *
 * <p>Against a hostile or broken server (docs/adr/0008-hostile-remote-servers.md): every command written is
 * announced to the {@link ReplyParser}, so a reply nobody asked for (a server streaming {@code 250} lines) is a
 * protocol violation that closes the connection, and nothing queues beyond what we pipelined; each wait has a
 * total deadline that trickled bytes do not extend — the write of a command or of the message (a server that
 * stops reading), the reply to it (a server that sends one byte a second), and the TLS handshake. Whatever
 * breaks the connection ends the attempt as a transient failure of this host.
 *
 * <p>About 380 lines on purpose: the socket, the reply parser, the one pending reply and the timers must be
 * touched in one place only, so that no other class can read or write the socket around them; that includes the
 * certificate check right after the TLS handshake (DANE, {@code match=} names), the lines that carry an AUTH secret
 * (never logged) and BDAT's raw chunk writes.
 */
final class OutboundConnection {

    private final Vertx vertx;
    private final ContextInternal context;
    private final NetSocket socket;
    private final SmtpTarget target;
    /** The WebPKI trust manager for a target's {@code match=} names check; null when there is none. */
    private final X509TrustManager webPki;
    private final ReplyParser parser = new ReplyParser();
    private Promise<SmtpReply> waiting;
    private String waitingFor;
    private long timer = -1;
    private Throwable broken;
    /** The server said 421: it is closing the channel (RFC 5321 §3.8); nothing more may be sent. */
    private boolean closing;
    /** A throttling reply was seen since the last {@link #clearThrottled()}. */
    private boolean throttled;
    private volatile Runnable onBroken = () -> { };

    private OutboundConnection(Vertx vertx, ContextInternal context, NetSocket socket, SmtpTarget target,
                               X509TrustManager webPki) {
        this.vertx = vertx;
        this.webPki = webPki;
        this.context = context;
        this.socket = socket;
        this.target = target;
        parser.expect(1); // the greeting
        socket.handler(this::received);
        socket.exceptionHandler(this::fail);
        socket.closeHandler(v -> fail(new SmtpProtocolException("connection closed by " + target.describe())));
    }

    /**
     * Connects to the target's address, which must be an IP literal: the connection goes to exactly the address
     * the destination guard checked, built from its bytes, and never resolves a name (a second lookup could
     * answer differently: DNS rebinding). The host name goes along only for SNI and certificate checks.
     *
     * <p>The connect runs on a fresh event-loop context, and the data handler is installed in the very callback
     * that completes the connect, on that event loop. A Vert.x {@link NetSocket} drops bytes that arrive while
     * it has no handler, and an SMTP server greets at once: attaching the handler from another thread (the
     * Kafka consumer's, a worker's) after the connect completed loses the greeting now and then, which a
     * loopback test shows within a few runs.
     */
    static Future<OutboundConnection> open(Vertx vertx, NetClient client, SmtpTarget target) {
        return open(vertx, client, target, null);
    }

    /** As {@link #open(Vertx, NetClient, SmtpTarget)}; {@code webPki} judges a target's {@code match=} names. */
    static Future<OutboundConnection> open(Vertx vertx, NetClient client, SmtpTarget target,
                                           X509TrustManager webPki) {
        byte[] ip = IpLiteral.parse(target.address());
        if (ip == null) {
            return Future.failedFuture(new SmtpProtocolException("not an IP address, not connecting: "
                    + target.describe()));
        }
        SocketAddress remote = SocketAddress.inetSocketAddress(
                new InetSocketAddress(IpLiteral.toInetAddress(ip), target.port()));
        ContextInternal context = ((VertxInternal) vertx).createEventLoopContext();
        Promise<OutboundConnection> connected = context.promise();
        context.runOnContext(v -> client
                .connect(remote, target.hostName())
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        connected.complete(new OutboundConnection(vertx, context, ar.result(), target, webPki));
                    } else {
                        connected.fail(ar.cause());
                    }
                }));
        return connected.future();
    }

    SmtpTarget target() {
        return target;
    }

    /** Runs {@code work} on this connection's event loop (a pooled connection is reused from other threads). */
    <T> Future<T> onLoop(Supplier<Future<T>> work) {
        Promise<T> done = context.promise();
        context.runOnContext(v -> {
            try {
                work.get().onComplete(done);
            } catch (RuntimeException e) {
                done.fail(e);
            }
        });
        return done.future();
    }

    /** Still usable for another transaction: not broken, closed or told 421. */
    boolean usable() {
        return broken == null && !closing;
    }

    boolean throttled() {
        return throttled;
    }

    void clearThrottled() {
        throttled = false;
    }

    /** Called once when the connection breaks (closed by the server, I/O error, timeout). */
    void onBroken(Runnable action) {
        this.onBroken = action;
        if (broken != null) {
            action.run();
        }
    }

    /** Waits for the next complete reply (the greeting, or the answer to what was just written). */
    Future<SmtpReply> readReply(String what, Duration timeout) {
        if (broken != null) {
            return Future.failedFuture(broken);
        }
        if (waiting != null) {
            return Future.failedFuture(new IllegalStateException("already waiting for " + waitingFor));
        }
        try {
            var ready = parser.next();
            if (ready.isPresent()) {
                return Future.succeededFuture(observe(ready.get()));
            }
        } catch (SmtpProtocolException e) {
            return Future.failedFuture(e);
        }
        waiting = Promise.promise();
        waitingFor = what;
        timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
            timer = -1;
            fail(new SmtpTimeoutException("no reply to " + what + " from " + target.describe() + " within "
                    + timeout.toSeconds() + "s"));
            socket.close();
        });
        return waiting.future();
    }

    /**
     * Writes one command line (CRLF added) and waits for its reply. After the reply to {@code STARTTLS} the
     * server must be silent until the handshake: what it sends then is dropped.
     */
    Future<SmtpReply> command(String line, Duration timeout) {
        String verb = line.contains(" ") ? line.substring(0, line.indexOf(' ')) : line;
        if (verb.equalsIgnoreCase("STARTTLS")) {
            parser.expectThenSilence();
        } else {
            parser.expect(1);
        }
        return write(Buffer.buffer((line + "\r\n").getBytes(StandardCharsets.UTF_8)), verb, timeout)
                .compose(v -> readReply(verb, timeout));
    }

    /**
     * Writes a line that carries a secret (a SASL response, RFC 4954) and waits for its reply. Unlike
     * {@link #command}, the line never appears in anything that can reach a log or an event: timeouts and write
     * failures name only {@code label} ({@code AUTH LOGIN password}).
     */
    Future<SmtpReply> secretLine(String line, String label, Duration timeout) {
        parser.expect(1);
        return write(Buffer.buffer((line + "\r\n").getBytes(StandardCharsets.UTF_8)), label, timeout)
                .compose(v -> readReply(label, timeout));
    }

    /**
     * Writes one BDAT chunk (RFC 3030 §2): the command line {@code BDAT <length> [LAST]} followed by exactly
     * {@code length} octets of {@code data} from {@code offset}, unchanged (no dot-stuffing, no end marker). Its
     * reply is read with {@link #readReply}; several chunks may be written before reading (PIPELINING).
     */
    Future<Void> writeChunk(byte[] data, int offset, int length, boolean last, Duration timeout) {
        byte[] head = ("BDAT " + length + (last ? " LAST" : "") + "\r\n").getBytes(StandardCharsets.US_ASCII);
        Buffer chunk = Buffer.buffer(head.length + length).appendBytes(head).appendBytes(data, offset, length);
        parser.expect(1);
        return write(chunk, "BDAT chunk", timeout);
    }

    /**
     * Writes several command lines in one go (RFC 2920 §3.1: the group goes out in one write). Their replies are
     * then read with {@link #readReply}, one per line, in order.
     */
    Future<Void> writeLines(List<String> lines, Duration timeout) {
        StringBuilder group = new StringBuilder();
        for (String line : lines) {
            group.append(line).append("\r\n");
        }
        parser.expect(lines.size());
        return write(Buffer.buffer(group.toString().getBytes(StandardCharsets.UTF_8)), "pipelined commands",
                timeout);
    }

    /**
     * Writes raw bytes (the dot-stuffed message) and waits for the reply to the final {@code .CRLF}; the write
     * and the reply each get {@code timeout}.
     */
    Future<SmtpReply> sendData(byte[] stuffed, Duration timeout) {
        parser.expect(1);
        return write(Buffer.buffer(stuffed), "message data", timeout)
                .compose(v -> readReply("end of data", timeout));
    }

    /**
     * Starts TLS on this connection (RFC 3207 §4) with the options of the client that opened it; the handshake
     * must be done within {@code timeout}. Everything the server sent before the handshake is discarded: it must
     * not be taken for a reply that came over TLS. When the target has a {@link CertificateCheck} (DANE, names)
     * the server's chain is judged right after the handshake, before anything is written: a failure is an
     * {@link UntrustedPeerException}, and the connection is then broken and closed without another byte sent.
     */
    Future<Void> startTls(Duration timeout) {
        parser.reset();
        return deadline(socket.upgradeToSsl(target.hostName()), "TLS handshake", timeout).compose(v -> checkPeer());
    }

    /** The target's certificate check over the negotiated chain: pure CPU, on the event loop. */
    private Future<Void> checkPeer() {
        CertificateCheck check = target.check();
        if (check == null) {
            return Future.succeededFuture();
        }
        String why;
        try {
            Certificate[] peer = socket.sslSession().getPeerCertificates();
            X509Certificate[] chain = new X509Certificate[peer.length];
            for (int i = 0; i < peer.length; i++) {
                if (!(peer[i] instanceof X509Certificate x509)) {
                    throw new CertificateException("not an X.509 certificate");
                }
                chain[i] = x509;
            }
            check.check(target.hostName(), chain, webPki);
            return Future.succeededFuture();
        } catch (CertificateException | SSLPeerUnverifiedException | RuntimeException e) {
            why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        UntrustedPeerException untrusted = new UntrustedPeerException(why);
        fail(untrusted);
        socket.close();
        return Future.failedFuture(untrusted);
    }

    boolean isTls() {
        return socket.isSsl();
    }

    /** The negotiated TLS session, or null on a plain-text connection. */
    SSLSession tlsSession() {
        return socket.isSsl() ? socket.sslSession() : null;
    }

    void close() {
        cancelTimer();
        socket.close();
    }

    private Future<Void> write(Buffer buffer, String what, Duration timeout) {
        if (broken != null) {
            return Future.failedFuture(broken);
        }
        return deadline(socket.write(buffer), "sending " + what, timeout);
    }

    /**
     * {@code step} within {@code timeout}, or the connection is broken and closed: a server that stops reading
     * (the write never drains) or stalls a handshake does not hold the connection, its slot and the delivery.
     */
    private Future<Void> deadline(Future<Void> step, String what, Duration timeout) {
        if (step.isComplete()) {
            return step;
        }
        Promise<Void> done = Promise.promise();
        long id = vertx.setTimer(Math.max(1, timeout.toMillis()), t -> {
            SmtpTimeoutException late = new SmtpTimeoutException(what + " to " + target.describe()
                    + " did not finish within " + timeout.toSeconds() + "s");
            fail(late);
            socket.close();
            done.tryFail(late);
        });
        step.onComplete(ar -> {
            vertx.cancelTimer(id);
            if (ar.succeeded()) {
                done.tryComplete();
            } else {
                done.tryFail(ar.cause());
            }
        });
        return done.future();
    }

    private void received(Buffer buffer) {
        if (broken != null) {
            return; // closing: nothing from this server is read or kept any more
        }
        try {
            parser.feed(buffer.getBytes());
            if (waiting != null) {
                parser.next().ifPresent(this::complete);
            }
        } catch (SmtpProtocolException e) {
            fail(e);
            socket.close();
        }
    }

    private void complete(SmtpReply reply) {
        Promise<SmtpReply> p = waiting;
        waiting = null;
        cancelTimer();
        p.complete(observe(reply));
    }

    private SmtpReply observe(SmtpReply reply) {
        if (reply.code() == 421) {
            closing = true;
        }
        if (Throttling.isThrottling(reply.code(), reply.text())) {
            throttled = true;
        }
        return reply;
    }

    private void fail(Throwable cause) {
        if (broken == null) {
            broken = cause;
            onBroken.run();
        }
        cancelTimer();
        if (waiting != null) {
            Promise<SmtpReply> p = waiting;
            waiting = null;
            p.fail(cause);
        }
    }

    private void cancelTimer() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }
}
