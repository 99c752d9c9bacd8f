package dev.relay.delivery.transport;

import dev.relay.delivery.tls.CertificateCheck;
import io.vertx.core.Future;

import java.time.Duration;

/**
 * STARTTLS (RFC 3207) according to the hop's {@link TlsPolicy}. After the handshake the server's earlier EHLO
 * answer is forgotten and EHLO is sent again (RFC 3207 §4.2). Falling back to plain text happens only when the
 * server does not offer STARTTLS and the policy is opportunistic; a STARTTLS that is offered and then fails is
 * a transient failure of this host, because silently dropping to plain text after a failed handshake is exactly
 * what an active attacker would provoke. A target with a certificate check (DANE, a table entry's names) is
 * judged right after the handshake ({@link OutboundConnection#startTls}); a failure, and a DANE target that does not
 * offer STARTTLS, is {@code 4.7.5} and never falls back to plain text (RFC 7672 §2.2).
 */
final class StartTlsPhase {

    /** RFC 3463: cryptographic failure (the certificate does not match, TLS missing where TLSA demands it). */
    static final String DANE_STATUS = "4.7.5";

    private StartTlsPhase() {
    }

    static Future<Step<Capabilities>> run(OutboundConnection conn, Capabilities caps, String heloName,
                                          Duration timeout) {
        TlsPolicy policy = conn.target().tls();
        if (policy == TlsPolicy.NONE) {
            return Step.next(caps);
        }
        if (!caps.has("STARTTLS")) {
            if (conn.target().check() instanceof CertificateCheck.Dane) {
                return Step.stop(new HopOutcome.Unreachable("DANE: " + conn.target().hostName()
                        + " does not offer STARTTLS but has TLSA records", false, DANE_STATUS));
            }
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
                            : handshake.cause() instanceof UntrustedPeerException untrusted
                            ? Step.stop(new HopOutcome.Unreachable(untrusted.getMessage(), false, DANE_STATUS))
                            : Step.stop(new HopOutcome.Unreachable(
                                    "TLS handshake failed: " + handshake.cause().getMessage())));
        });
    }
}
