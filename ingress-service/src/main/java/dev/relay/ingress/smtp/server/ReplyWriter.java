package dev.relay.ingress.smtp.server;

import dev.relay.ingress.metrics.IngressMetrics;
import dev.relay.ingress.smtp.protocol.Reply;
import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * The output side of a connection: writes replies, counts each under the verb it answers (a bounded tag), and
 * notices when the client stops reading them. While it is {@link #blocked()} the connection executes no further
 * command and bounds what the client sends meanwhile; once the socket drained, {@code onDrained} resumes it.
 */
final class ReplyWriter {

    private final NetSocket socket;
    private final IngressMetrics metrics;
    private final Runnable onDrained;
    private String verb = "CONNECT";
    /** The socket's write queue is full (the client does not read its replies). */
    private boolean blocked;

    ReplyWriter(NetSocket socket, IngressMetrics metrics, Runnable onDrained) {
        this.socket = socket;
        this.metrics = metrics;
        this.onDrained = onDrained;
    }

    /** The verb the next replies answer (a command line's, or DATA/BDAT at the end of a message). */
    void answering(String answered) {
        verb = answered;
    }

    String verb() {
        return verb;
    }

    boolean blocked() {
        return blocked;
    }

    void write(Reply reply) {
        metrics.command(verb, reply.replyClass());
        socket.write(Buffer.buffer(reply.toBytes()));
        if (!blocked && socket.writeQueueFull()) {
            // the client does not read its replies: execute nothing more until it does (the input is bounded)
            blocked = true;
            socket.drainHandler(v -> {
                blocked = false;
                socket.drainHandler(null);
                onDrained.run();
            });
        }
    }

    /** The reply to STARTTLS, then {@code written} once it is on the wire (the handshake starts only after it). */
    void writeStartTls(Reply reply, Handler<AsyncResult<Void>> written) {
        metrics.command("STARTTLS", reply.replyClass());
        socket.write(Buffer.buffer(reply.toBytes()), written);
    }
}
