package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Phase;
import io.vertx.core.Future;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * MAIL, every RCPT and DATA as one group in one write (RFC 2920 §3.1), for servers that offer PIPELINING. The
 * replies come back in the order of the commands and are matched one to one: each recipient keeps its own
 * answer (accepted, deferred or refused). The message itself goes out only after a {@code 354} and only when
 * MAIL and at least one RCPT were accepted; a server that answers DATA with 354 although nobody was accepted gets
 * an empty message ({@code .}) that delivers nothing (RFC 2920 §3.1). A {@code 421} stops the reading: the server
 * closes the channel and will not answer the rest.
 *
 * <p>When the message goes with BDAT ({@link BdatPhase}), the group is MAIL and the RCPTs only: the chunks go out
 * once the replies show that at least one recipient was accepted, so no data is sent for nothing.
 */
final class PipelinedPhase {

    private static final byte[] EMPTY_DATA = ".\r\n".getBytes(StandardCharsets.US_ASCII);

    private PipelinedPhase() {
    }

    /** @param bdat the message goes with BDAT after the group (null: with DATA, which ends the group) */
    static Future<Step<HopOutcome>> run(OutboundConnection conn, Capabilities caps, OutboundTransaction tx,
                                        SmtpTimeouts timeouts, Supplier<Future<Step<HopOutcome>>> bdat) {
        HopOutcome refused = MailPhase.refusal(conn, caps, tx);
        if (refused != null) {
            return Step.stop(refused);
        }
        List<String> recipients = tx.message().recipients();
        List<String> group = new ArrayList<>();
        group.add(MailPhase.line(caps, tx.message()));
        for (String rcpt : recipients) {
            group.add(RcptPhase.line(caps, tx.message(), rcpt));
        }
        if (bdat == null) {
            group.add("DATA");
        }
        return conn.writeLines(group, timeouts.command())
                .compose(v -> replies(conn, group.size(), bdat == null, timeouts.command(), new ArrayList<>()))
                .compose(replies -> decide(conn, tx, replies, group.size(), timeouts, bdat));
    }

    /** Reads up to {@code expected} replies in order; stops after a 421. */
    private static Future<List<SmtpReply>> replies(OutboundConnection conn, int expected, boolean endsWithData,
                                                   Duration timeout, List<SmtpReply> read) {
        if (read.size() == expected) {
            return Future.succeededFuture(read);
        }
        return conn.readReply(read.isEmpty() ? "MAIL" : endsWithData && read.size() == expected - 1 ? "DATA"
                        : "RCPT", timeout)
                .compose(reply -> {
                    read.add(reply);
                    return reply.code() == 421 ? Future.succeededFuture(read)
                            : replies(conn, expected, endsWithData, timeout, read);
                });
    }

    private static Future<Step<HopOutcome>> decide(OutboundConnection conn, OutboundTransaction tx,
                                                   List<SmtpReply> replies, int expected, SmtpTimeouts timeouts,
                                                   Supplier<Future<Step<HopOutcome>>> bdat) {
        Step<Void> mail = MailPhase.decide(replies.get(0), tx);
        List<String> recipients = tx.message().recipients();
        for (int i = 0; i < recipients.size() && i + 1 < replies.size(); i++) {
            SmtpReply reply = replies.get(i + 1);
            if (reply.code() == 421) {
                tx.closed(reply, Phase.RCPT);
            } else if (mail instanceof Step.Next) {
                tx.rcptReply(recipients.get(i), reply);
            }
        }
        SmtpReply data = bdat == null && replies.size() == expected ? replies.get(expected - 1) : null;
        if (data != null && data.code() == 421) {
            tx.closed(data, Phase.DATA);
        }
        if (mail instanceof Step.Stop<Void> stop) {
            return endOpenData(conn, data, timeouts).compose(v -> Step.stop(stop.outcome()));
        }
        if (tx.closedBy() != null) {
            return Step.stop(tx.finish(DeliveryStatus.TRANSIENT, tx.closedBy()));
        }
        if (tx.accepted().isEmpty()) {
            return endOpenData(conn, data, timeouts)
                    .compose(v -> Step.stop(tx.finish(DeliveryStatus.TRANSIENT, RcptPhase.NONE_ACCEPTED)));
        }
        if (bdat != null) {
            return bdat.get();
        }
        if (data.code() != 354) {
            return Step.stop(tx.finish(data.isPermanent() ? DeliveryStatus.PERMANENT : DeliveryStatus.TRANSIENT,
                    data.diagnostic(Phase.DATA)));
        }
        return conn.sendData(DotStuffer.stuff(tx.message().data()), timeouts.data())
                .compose(end -> Step.next(tx.dataEnd(end)));
    }

    /** After a 354 we did not want, end the data at once with an empty message, and ignore its reply. */
    private static Future<Void> endOpenData(OutboundConnection conn, SmtpReply data, SmtpTimeouts timeouts) {
        if (data == null || data.code() != 354) {
            return Future.succeededFuture();
        }
        return conn.sendData(EMPTY_DATA, timeouts.data()).mapEmpty();
    }
}
