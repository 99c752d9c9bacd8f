package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import io.vertx.core.Future;

import java.time.Duration;
import java.util.List;

/**
 * One RCPT TO per recipient, one after the other (without PIPELINING); each answer is that recipient's own result.
 * Continues to DATA only if at least one recipient was accepted. A {@code 421} ends the transaction: every
 * recipient not yet refused is deferred with that reply.
 */
final class RcptPhase {

    /** Every recipient was refused at RCPT: nothing is left undecided (the reason has no reply code). */
    static final Diagnostic NONE_ACCEPTED = new Diagnostic(Phase.RCPT, 0, null, "no recipient accepted");

    private RcptPhase() {
    }

    static Future<Step<List<String>>> run(OutboundConnection conn, Capabilities caps, OutboundTransaction tx,
                                          Duration timeout) {
        Future<Boolean> chain = Future.succeededFuture(true);
        for (String rcpt : tx.message().recipients()) {
            chain = chain.compose(goOn -> !goOn ? Future.succeededFuture(false)
                    : conn.command(line(caps, tx.message(), rcpt), timeout).map(reply -> {
                        if (reply.code() == 421) {
                            tx.closed(reply, Phase.RCPT);
                            return false;
                        }
                        tx.rcptReply(rcpt, reply);
                        return true;
                    }));
        }
        return chain.compose(goOn -> after(tx));
    }

    static String line(Capabilities caps, OutboundMessage msg, String rcpt) {
        return "RCPT TO:<" + rcpt + ">" + (caps.has("DSN") ? DsnParameters.rcpt(msg.dsn(), rcpt) : "");
    }

    static Future<Step<List<String>>> after(OutboundTransaction tx) {
        if (tx.closedBy() != null) {
            return Step.stop(tx.finish(DeliveryStatus.TRANSIENT, tx.closedBy()));
        }
        List<String> accepted = tx.accepted();
        return accepted.isEmpty()
                ? Step.stop(tx.finish(DeliveryStatus.TRANSIENT, NONE_ACCEPTED))
                : Step.next(accepted);
    }
}
