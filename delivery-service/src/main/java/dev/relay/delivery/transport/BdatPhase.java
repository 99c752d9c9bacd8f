package dev.relay.delivery.transport;

import dev.relay.delivery.metrics.OutboundExtensionMetrics;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Phase;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;

/**
 * The message with BDAT (RFC 3030 CHUNKING) instead of DATA, once MAIL and at least one RCPT were accepted: the
 * stored bytes exactly as they are, in chunks of {@code chunk-size} octets, the last one {@code BDAT n LAST}. No
 * dot-stuffing and no end marker: a line that starts with '.' and 8-bit octets go out untouched, which is the
 * point for large messages (the receiver does not scan them).
 *
 * <p>With PIPELINING the chunks are written one after the other without waiting for their replies, which are
 * then read in order (RFC 3030 §4.2); without it each chunk waits for its {@code 250}. A reply other than 2yz
 * to any chunk ends the transaction with that reply (permanent for 5yz, else transient); the server has then
 * dropped the transaction (RFC 3030 §2), and the session is cleared with RSET before it is reused
 * ({@link SessionPool}). The reply to {@code LAST} decides every accepted recipient, as the reply to the final
 * dot does.
 */
final class BdatPhase {

    private BdatPhase() {
    }

    static Future<Step<HopOutcome>> run(OutboundConnection conn, Capabilities caps, OutboundTransaction tx,
                                        Chunking chunking, OutboundExtensionMetrics metrics, SmtpTimeouts timeouts) {
        metrics.chunked();
        List<int[]> chunks = new ArrayList<>(); // {offset, length}
        int length = tx.message().data().length;
        for (int offset = 0; offset < length; offset += chunking.chunkSize()) {
            chunks.add(new int[]{offset, Math.min(chunking.chunkSize(), length - offset)});
        }
        if (chunks.isEmpty()) {
            chunks.add(new int[]{0, 0}); // an empty message: BDAT 0 LAST
        }
        return caps.has("PIPELINING") ? pipelined(conn, tx, chunks, timeouts)
                : oneByOne(conn, tx, chunks, 0, timeouts);
    }

    /** Each chunk waits for its reply before the next goes out. */
    private static Future<Step<HopOutcome>> oneByOne(OutboundConnection conn, OutboundTransaction tx,
                                                     List<int[]> chunks, int index, SmtpTimeouts timeouts) {
        boolean last = index == chunks.size() - 1;
        int[] chunk = chunks.get(index);
        return conn.writeChunk(tx.message().data(), chunk[0], chunk[1], last, timeouts.data())
                .compose(v -> conn.readReply(last ? "BDAT LAST" : "BDAT", last ? timeouts.data() : timeouts.command()))
                .compose(reply -> {
                    if (!accepted(reply)) {
                        return Step.stop(failed(tx, reply));
                    }
                    return last ? Step.next(tx.dataEnd(reply)) : oneByOne(conn, tx, chunks, index + 1, timeouts);
                });
    }

    /** Every chunk written, then the replies read in order; the first that is not 2yz decides. */
    private static Future<Step<HopOutcome>> pipelined(OutboundConnection conn, OutboundTransaction tx,
                                                      List<int[]> chunks, SmtpTimeouts timeouts) {
        Future<Void> written = Future.succeededFuture();
        for (int i = 0; i < chunks.size(); i++) {
            int[] chunk = chunks.get(i);
            boolean last = i == chunks.size() - 1;
            written = written.compose(v -> conn.writeChunk(tx.message().data(), chunk[0], chunk[1], last,
                    timeouts.data()));
        }
        return written.compose(v -> replies(conn, tx, chunks.size(), 0, null, timeouts));
    }

    private static Future<Step<HopOutcome>> replies(OutboundConnection conn, OutboundTransaction tx, int count,
                                                    int index, SmtpReply failure, SmtpTimeouts timeouts) {
        boolean last = index == count - 1;
        return conn.readReply(last ? "BDAT LAST" : "BDAT", last ? timeouts.data() : timeouts.command())
                .compose(reply -> {
                    SmtpReply first = failure == null && !accepted(reply) ? reply : failure;
                    if (reply.code() == 421 || (last && first != null)) {
                        return Step.stop(failed(tx, first));
                    }
                    if (last) {
                        return Step.next(tx.dataEnd(reply));
                    }
                    return replies(conn, tx, count, index + 1, first, timeouts);
                });
    }

    private static boolean accepted(SmtpReply reply) {
        return reply.code() >= 200 && reply.code() < 300;
    }

    private static HopOutcome failed(OutboundTransaction tx, SmtpReply reply) {
        if (reply.code() == 421) {
            tx.closed(reply, Phase.MESSAGE);
        }
        return tx.finish(reply.isPermanent() ? DeliveryStatus.PERMANENT : DeliveryStatus.TRANSIENT,
                reply.diagnostic(Phase.MESSAGE));
    }
}
