package dev.relay.delivery.transport;

import dev.relay.delivery.auth.Credential;
import dev.relay.delivery.metrics.OutboundExtensionMetrics;
import dev.relay.delivery.metrics.OutboundExtensionMetrics.AuthResult;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import io.vertx.core.Future;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;

/**
 * AUTH (RFC 4954) with the credential the hop names, after STARTTLS and the second EHLO. Only over TLS: on a
 * plain-text connection the credential is never sent (whatever the TLS policy said). The mechanism is the
 * credential's own and must be in the server's AUTH list; there is no negotiation down to a weaker one.
 * <ul>
 *   <li>PLAIN (RFC 4616): {@code AUTH PLAIN <base64(\0user\0password)>} as initial response;</li>
 *   <li>LOGIN: {@code AUTH LOGIN}, then user name and password, each answering a {@code 334} challenge;</li>
 *   <li>XOAUTH2: {@code AUTH XOAUTH2 <base64(user=…^Aauth=Bearer …^A^A)>}; a {@code 334} carrying the error
 *       (a base64 JSON document) is answered with an empty line, and the server's final reply decides.</li>
 * </ul>
 * {@code 235} goes on to the transactions. Anything else — 535 (our credential is wrong), 454, a challenge
 * where none belongs (cancelled with {@code *}, RFC 4954 §4) — stops the session with a transient
 * {@code 454 4.7.0} for every recipient ({@link HopOutcome.Refused}): it is our credential, not the sender's
 * fault, so the mail stays queued and an operator is told (WARN log, {@code relay_delivery_auth_total}). The
 * challenges are read by the reply parser, which bounds every reply (line length, lines, octets). No line that
 * carries a secret is ever logged ({@link OutboundConnection#secretLine}).
 */
final class AuthPhase {

    private static final Logger LOG = Logger.getLogger(AuthPhase.class);
    private static final Base64.Encoder B64 = Base64.getEncoder();

    private AuthPhase() {
    }

    static Future<Step<Capabilities>> run(OutboundConnection conn, Capabilities caps, Credential credential,
                                          OutboundExtensionMetrics metrics, Duration timeout) {
        String mechanism = credential.mechanism().name();
        String tag = credential.mechanism().tag();
        String host = conn.target().describe();
        if (!conn.isTls()) {
            metrics.auth(tag, AuthResult.NO_TLS);
            LOG.warnf("credential %s not sent to %s: the connection is not encrypted", credential.name(), host);
            return Step.stop(refused("credential " + credential.name() + " not sent to " + host
                    + ": the connection is not encrypted (TLS)"));
        }
        Set<String> offered = caps.authMechanisms();
        if (!offered.contains(mechanism)) {
            metrics.auth(tag, AuthResult.NOT_OFFERED);
            String offers = offered.isEmpty() ? "no AUTH offered" : "offers " + abbreviate(String.join(" ", offered));
            LOG.warnf("credential %s: %s does not offer AUTH %s (%s)", credential.name(), host, mechanism, offers);
            return Step.stop(refused("AUTH " + mechanism + " for credential " + credential.name()
                    + " not offered by " + host + " (" + offers + ")"));
        }
        return exchange(conn, credential, timeout).compose(reply -> {
            if (reply.code() == 235) {
                metrics.auth(tag, AuthResult.SUCCESS);
                return Step.next(caps);
            }
            metrics.auth(tag, AuthResult.FAILURE);
            LOG.warnf("AUTH %s with credential %s refused by %s: %s; mail for this hop stays queued", mechanism,
                    credential.name(), host, abbreviate(reply.text()));
            return Step.stop(refused("AUTH " + mechanism + " with credential " + credential.name()
                    + " refused by " + host + ": " + reply.text()));
        });
    }

    /** The SASL exchange; the reply that ends it (235 on success). */
    private static Future<SmtpReply> exchange(OutboundConnection conn, Credential c, Duration timeout) {
        return switch (c.mechanism()) {
            case PLAIN -> conn.secretLine("AUTH PLAIN " + b64("\0" + c.username() + "\0" + c.secret()),
                    "AUTH PLAIN", timeout).compose(reply -> cancelIfChallenged(conn, reply, timeout));
            case LOGIN -> conn.command("AUTH LOGIN", timeout).compose(first -> first.code() != 334
                    ? Future.succeededFuture(first)
                    : conn.secretLine(b64(c.username()), "AUTH LOGIN user name", timeout).compose(second ->
                    second.code() != 334 ? Future.succeededFuture(second)
                            : conn.secretLine(b64(c.secret()), "AUTH LOGIN password", timeout)
                            .compose(last -> cancelIfChallenged(conn, last, timeout))));
            case XOAUTH2 -> conn.secretLine("AUTH XOAUTH2 " + b64("user=" + c.username() + "\u0001auth=Bearer "
                    + c.secret() + "\u0001\u0001"), "AUTH XOAUTH2", timeout).compose(reply -> reply.code() == 334
                    // the error details as a challenge: an empty response, then the final (5yz) reply
                    ? conn.secretLine("", "AUTH XOAUTH2 error acknowledgement", timeout)
                    .compose(last -> cancelIfChallenged(conn, last, timeout))
                    : Future.succeededFuture(reply));
        };
    }

    /**
     * A challenge where the exchange should be over: cancel it with {@code *} (RFC 4954 §4), read that reply, and
     * report the unexpected challenge as the failure.
     */
    private static Future<SmtpReply> cancelIfChallenged(OutboundConnection conn, SmtpReply reply, Duration timeout) {
        if (reply.code() != 334) {
            return Future.succeededFuture(reply);
        }
        return conn.secretLine("*", "AUTH cancel", timeout)
                .map(cancelled -> SmtpReply.local(cancelled.code(), "unexpected AUTH challenge, cancelled: "
                        + cancelled.text()));
    }

    private static HopOutcome.Refused refused(String reason) {
        return new HopOutcome.Refused(Diagnostic.ours(Phase.AUTH, 454, "4.7.0", reason));
    }

    private static String b64(String text) {
        return B64.encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** At most 200 characters, control characters replaced: this text reaches logs. */
    private static String abbreviate(String text) {
        String shown = text.length() > 200 ? text.substring(0, 200) + "..." : text;
        return shown.codePoints().map(ch -> ch < 0x20 || ch == 0x7f ? '?' : ch)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
