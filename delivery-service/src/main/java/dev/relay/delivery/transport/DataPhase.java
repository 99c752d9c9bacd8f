package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Phase;
import io.vertx.core.Future;

/**
 * DATA, then the stored bytes dot-stuffed (RFC 5321 §4.5.2) and {@code .CRLF}. The reply to the final dot
 * decides every recipient accepted at RCPT. The bytes are never decoded or re-encoded on the way.
 */
final class DataPhase {

    private DataPhase() {
    }

    static Future<Step<HopOutcome>> run(OutboundConnection conn, OutboundTransaction tx, SmtpTimeouts timeouts) {
        return conn.command("DATA", timeouts.command()).compose(go -> {
            if (go.code() == 421) {
                tx.closed(go, Phase.DATA);
            }
            if (go.code() != 354) {
                return Step.stop(tx.finish(go.isPermanent() ? DeliveryStatus.PERMANENT : DeliveryStatus.TRANSIENT,
                        go.diagnostic(Phase.DATA)));
            }
            return conn.sendData(DotStuffer.stuff(tx.message().data()), timeouts.data())
                    .compose(end -> Step.next(tx.dataEnd(end)));
        });
    }
}
