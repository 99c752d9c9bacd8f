package dev.relay.delivery.transport;

import io.vertx.core.Future;

import java.time.Duration;

/**
 * STARTTLS (RFC 3207) according to the hop's {@link TlsPolicy}. After the handshake the server's earlier EHLO
 * answer is forgotten and EHLO is sent again (RFC 3207 §4.2). Falling back to plain text happens only when the
 * server does not offer STARTTLS and the policy is opportunistic; a STARTTLS that is offered and then fails is
 * a transient failure of this host, because silently dropping to plain text after a failed handshake is exactly
 * what an active attacker would provoke.
 */
final class StartTlsPhase {

    private StartTlsPhase() {
    }

    static Future<Step<Capabilities>> run(OutboundConnection conn, Capabilities caps, String heloName,
                                          Duration timeout) {
        TlsPolicy policy = conn.target().tls();
        if (policy == TlsPolicy.NONE) {
            return Step.next(caps);
        }
        if (!caps.has("STARTTLS")) {
            return policy.mandatory()
                    ? Step.stop(new HopOutcome.Unreachable("STARTTLS not offered, TLS policy " + policy))
                    : Step.next(caps);
        }
        return conn.command("STARTTLS", timeout).compose(reply -> {
            if (reply.code() != 220) {
                return Step.stop(new HopOutcome.Unreachable("STARTTLS: " + reply.text()));
            }
            return conn.startTls(timeout)
                    .transform(handshake -> handshake.succeeded()
                            ? EhloPhase.run(conn, heloName, timeout)
                            : Step.stop(new HopOutcome.Unreachable(
                                    "TLS handshake failed: " + handshake.cause().getMessage())));
        });
    }
}
