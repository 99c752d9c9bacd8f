package dev.relay.delivery.transport;

import io.vertx.core.Future;

import java.time.Duration;

/**
 * MAIL FROM with the parameters the message needs and the server offers: BODY=8BITMIME (RFC 6152), SMTPUTF8
 * (RFC 6531), SIZE (RFC 1870). A message that needs SMTPUTF8 cannot go to a server without it: permanent
 * 5.6.7 (RFC 6531 §3.5). An 8-bit body to a server without 8BITMIME is sent as it is, as Postfix does by
 * default: converting it would break the byte-for-byte promise, and nearly every server accepts it.
 */
final class MailPhase {

    private MailPhase() {
    }

    static Future<Step<Void>> run(SmtpConnection conn, Capabilities caps, Transaction tx, Duration timeout) {
        OutboundMessage msg = tx.message();
        if (msg.smtputf8() && !caps.has("SMTPUTF8")) {
            return Step.stop(tx.finish(DeliveryStatus.PERMANENT,
                    "554 5.6.7 SMTPUTF8 required but not supported by " + conn.target().describe()));
        }
        StringBuilder line = new StringBuilder("MAIL FROM:<").append(msg.mailFrom()).append('>');
        if (msg.eightBit() && caps.has("8BITMIME")) {
            line.append(" BODY=8BITMIME");
        }
        if (msg.smtputf8()) {
            line.append(" SMTPUTF8");
        }
        if (caps.has("SIZE")) {
            line.append(" SIZE=").append(msg.data().length);
        }
        return conn.command(line.toString(), timeout).compose(reply -> {
            if (!reply.isPositive()) {
                return Step.stop(tx.finish(DeliveryStatus.of(reply), reply.text()));
            }
            tx.mailAccepted(true);
            return Step.next(null);
        });
    }
}
