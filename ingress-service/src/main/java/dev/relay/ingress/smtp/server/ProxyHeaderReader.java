package dev.relay.ingress.smtp.server;

import dev.relay.ingress.smtp.protocol.ProxyHeader;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.jboss.logging.Logger;

import java.util.function.BiConsumer;

/**
 * Reads the PROXY protocol header a load balancer sends first, then hands the socket on with the real client
 * address and whatever bytes followed the header. A missing or malformed header, or none within 10 seconds,
 * closes the connection without a word: such a peer is not the load balancer.
 */
final class ProxyHeaderReader {

    private static final Logger LOG = Logger.getLogger(ProxyHeaderReader.class);
    private static final long TIMEOUT_MS = 10_000;

    private ProxyHeaderReader() {
    }

    /** @param then called with the client address (the peer's own for LOCAL/UNKNOWN) and the bytes after the header */
    static void read(Vertx vertx, NetSocket socket, String peer, BiConsumer<String, Buffer> then) {
        Buffer[] received = {Buffer.buffer()};
        long timer = vertx.setTimer(TIMEOUT_MS, id -> {
            LOG.debugf("no PROXY header from %s in time", peer);
            socket.close();
        });
        socket.handler(bytes -> {
            received[0].appendBuffer(bytes);
            byte[] all = received[0].getBytes();
            ProxyHeader.Result result = ProxyHeader.parse(all, all.length);
            if (result instanceof ProxyHeader.Result.NeedMore) {
                return;
            }
            vertx.cancelTimer(timer);
            socket.handler(null);
            if (result instanceof ProxyHeader.Result.Parsed parsed) {
                String client = parsed.sourceAddress() == null ? peer : parsed.sourceAddress();
                then.accept(client, received[0].getBuffer(parsed.length(), all.length));
            } else {
                LOG.warnf("refusing connection from %s: %s", peer, ((ProxyHeader.Result.Invalid) result).reason());
                socket.close();
            }
        });
    }
}
