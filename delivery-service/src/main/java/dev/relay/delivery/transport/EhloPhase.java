package dev.relay.delivery.transport;

import io.vertx.core.Future;

import java.time.Duration;

/**
 * EHLO, and HELO when the server refuses EHLO with 5yz (RFC 5321 §3.2: an old server that does not know EHLO).
 * A 4yz is not a reason to downgrade: the server is busy, so is this host. A reply naming our own EHLO name as
 * the server's is ourselves ({@link HopOutcome.LoopsBack}).
 */
final class EhloPhase {

    private EhloPhase() {
    }

    static Future<Step<Capabilities>> run(OutboundConnection conn, String heloName, Duration timeout) {
        return conn.command("EHLO " + heloName, timeout).compose(ehlo -> {
            if (ehlo.isPositive()) {
                return self(ehlo, heloName) ? Step.stop(new HopOutcome.LoopsBack("EHLO: " + ehlo.text()))
                        : Step.next(Capabilities.fromEhlo(ehlo));
            }
            if (!ehlo.isPermanent()) {
                return Step.stop(new HopOutcome.Unreachable("EHLO: " + ehlo.text()));
            }
            return conn.command("HELO " + heloName, timeout).compose(helo -> {
                if (!helo.isPositive()) {
                    return Step.stop(new HopOutcome.Unreachable("HELO: " + helo.text()));
                }
                return self(helo, heloName) ? Step.stop(new HopOutcome.LoopsBack("HELO: " + helo.text()))
                        : Step.next(Capabilities.none());
            });
        });
    }

    private static boolean self(SmtpReply reply, String heloName) {
        return new OwnName(heloName).greets(reply);
    }
}
