package dev.relay.delivery.transport;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import io.vertx.core.Future;

import java.time.Duration;

/**
 * MAIL FROM with the parameters the message needs and the server offers: BODY=8BITMIME (RFC 6152), SMTPUTF8
 * (RFC 6531), SIZE (RFC 1870), RET/ENVID (RFC 3461, with DSN). A message that needs SMTPUTF8 cannot go to a
 * server without it: permanent 5.6.7 (RFC 6531 §3.5). An 8-bit body to a server without 8BITMIME is sent as it
 * is, as Postfix does by default: converting it would break the byte-for-byte promise, and nearly every server
 * accepts it. A {@code 421} to MAIL means the server is closing the channel: the host is unreachable for now
 * (next MX; or, on a pooled connection, a fresh connection), not a decision about the message.
 */
final class MailPhase {

    private MailPhase() {
    }

    static Future<Step<Void>> run(OutboundConnection conn, Capabilities caps, OutboundTransaction tx,
                                  Duration timeout) {
        HopOutcome refused = refusal(conn, caps, tx);
        if (refused != null) {
            return Step.stop(refused);
        }
        return conn.command(line(caps, tx.message()), timeout).compose(reply -> {
            Step<Void> step = decide(reply, tx);
            return Future.succeededFuture(step);
        });
    }

    /** A message this server cannot take as it is (SMTPUTF8 needed, not offered); null when it can. */
    static HopOutcome refusal(OutboundConnection conn, Capabilities caps, OutboundTransaction tx) {
        if (tx.message().smtputf8() && !caps.has("SMTPUTF8")) {
            return tx.finish(DeliveryStatus.PERMANENT, Diagnostic.ours(Phase.MAIL, 554, "5.6.7",
                    "SMTPUTF8 required but not supported by " + conn.target().describe()));
        }
        return null;
    }

    static String line(Capabilities caps, OutboundMessage msg) {
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
        if (caps.has("DSN")) {
            line.append(DsnParameters.mail(msg.dsn()));
        }
        return line.toString();
    }

    static Step<Void> decide(SmtpReply reply, OutboundTransaction tx) {
        if (reply.code() == 421) {
            return new Step.Stop<>(new HopOutcome.Unreachable("MAIL: " + reply.text()));
        }
        if (!reply.isPositive()) {
            return new Step.Stop<>(tx.finish(DeliveryStatus.of(reply.code()), reply.diagnostic(Phase.MAIL)));
        }
        tx.mailAccepted(true);
        return new Step.Next<>(null);
    }
}
