package dev.relay.delivery.transport;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.List;

/**
 * One RCPT TO per recipient, one after the other; each answer is that recipient's own result. Continues to DATA
 * only if at least one recipient was accepted.
 */
final class RcptPhase {

    private RcptPhase() {
    }

    static Future<Step<List<String>>> run(SmtpConnection conn, Transaction tx, Duration timeout) {
        Future<Void> chain = Future.succeededFuture();
        for (String rcpt : tx.message().recipients()) {
            chain = chain.compose(v -> conn.command("RCPT TO:<" + rcpt + ">", timeout)
                    .map(reply -> {
                        tx.rcptReply(rcpt, reply);
                        return null;
                    }));
        }
        return chain.compose(v -> {
            List<String> accepted = tx.accepted();
            return accepted.isEmpty()
                    ? Step.stop(tx.finish(DeliveryStatus.TRANSIENT, "no recipient accepted"))
                    : Step.next(accepted);
        });
    }
}
