package dev.relay.delivery.transport;

import io.vertx.core.Future;

import java.time.Duration;

/** Waits for the server's greeting (RFC 5321 §3.1). Anything but 2yz: this host will not talk to us. */
final class GreetingPhase {

    private GreetingPhase() {
    }

    static Future<Step<SmtpReply>> run(SmtpConnection conn, Duration timeout) {
        return conn.readReply("greeting", timeout).compose(reply -> reply.isPositive()
                ? Step.next(reply)
                : Step.stop(new HopOutcome.Unreachable("greeting: " + reply.text())));
    }
}
