package dev.relay.delivery.transport;

import io.vertx.core.Future;

import java.time.Duration;

/**
 * Waits for the server's greeting (RFC 5321 §3.1). Anything but 2yz: this host will not talk to us. A greeting
 * with our own name: the host is ourselves ({@link HopOutcome.LoopsBack}).
 */
final class GreetingPhase {

    private GreetingPhase() {
    }

    static Future<Step<SmtpReply>> run(OutboundConnection conn, OwnName self, Duration timeout) {
        return conn.readReply("greeting", timeout).compose(reply -> {
            if (!reply.isPositive()) {
                return Step.stop(new HopOutcome.Unreachable("greeting: " + reply.text()));
            }
            return self.greets(reply) ? Step.stop(new HopOutcome.LoopsBack("greeting: " + reply.text()))
                    : Step.next(reply);
        });
    }
}
