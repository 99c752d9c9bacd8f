package dev.relay.delivery.transport;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/**
 * A byte-exact SMTP client on Vert.x {@link NetClient} (see docs/adr/0002-byte-exact-outbound-smtp.md): it
 * sends the stored message bytes unchanged, which vertx-mail-client cannot do.
 *
 * <p>{@link #deliver} tries the targets of one hop in order (RFC 5321 §5.1) until a server decides about the
 * recipients; when no target can be reached every recipient is transient.
 */
public final class SmtpClient {

    private static final Logger LOG = Logger.getLogger(SmtpClient.class);

    /** Like Postfix's smtp_mx_address_limit: a hop with more addresses than this is not tried further. */
    static final int MAX_TARGETS = 5;

    private final Vertx vertx;
    private final String heloName;
    private final SmtpTimeouts timeouts;
    /** Opportunistic and required TLS accept any certificate: encryption without authentication (RFC 7435). */
    private final NetClient trustAll;
    /** TLS policy "verify": the JDK's trusted roots, and the host name must match the certificate. */
    private final NetClient verifying;

    public SmtpClient(Vertx vertx, String heloName, SmtpTimeouts timeouts) {
        this.vertx = vertx;
        this.heloName = heloName;
        this.timeouts = timeouts;
        int connectMillis = (int) Math.min(Integer.MAX_VALUE, timeouts.connect().toMillis());
        this.trustAll = vertx.createNetClient(new NetClientOptions()
                .setConnectTimeout(connectMillis)
                .setTrustAll(true)
                .setHostnameVerificationAlgorithm(""));
        this.verifying = vertx.createNetClient(new NetClientOptions()
                .setConnectTimeout(connectMillis)
                .setHostnameVerificationAlgorithm("HTTPS"));
    }

    /** Delivers to the first target that decides; never fails, every recipient gets a result. */
    public Future<List<RecipientResult>> deliver(List<SmtpTarget> targets, OutboundMessage message) {
        List<SmtpTarget> tried = targets.size() > MAX_TARGETS ? targets.subList(0, MAX_TARGETS) : targets;
        return attempt(tried, 0, message, new ArrayList<>());
    }

    private Future<List<RecipientResult>> attempt(List<SmtpTarget> targets, int index, OutboundMessage message,
                                                  List<String> failures) {
        if (index >= targets.size()) {
            String reason = failures.isEmpty() ? "no address to connect to" : String.join("; ", failures);
            List<RecipientResult> results = new ArrayList<>();
            for (String rcpt : message.recipients()) {
                results.add(new RecipientResult(rcpt, DeliveryStatus.TRANSIENT, "451 4.4.1 " + reason, null));
            }
            return Future.succeededFuture(results);
        }
        SmtpTarget target = targets.get(index);
        return session(target, message).compose(outcome -> {
            if (outcome instanceof HopOutcome.Decided decided) {
                return Future.succeededFuture(decided.results());
            }
            String reason = target.describe() + ": " + ((HopOutcome.Unreachable) outcome).reason();
            LOG.debugf("message %s: %s, trying next address", message.messageId(), reason);
            failures.add(reason);
            return attempt(targets, index + 1, message, failures);
        });
    }

    /** One session with one target; a failed connect is an unreachable host, not an error. */
    Future<HopOutcome> session(SmtpTarget target, OutboundMessage message) {
        NetClient client = target.tls() == TlsPolicy.VERIFY ? verifying : trustAll;
        return SmtpConnection.open(vertx, client, target)
                .transform(connected -> connected.succeeded()
                        ? new SmtpSession(connected.result(), message, heloName, timeouts).run()
                        : Future.succeededFuture(new HopOutcome.Unreachable(
                                "connect failed: " + connected.cause().getMessage())));
    }

    public Future<Void> close() {
        return Future.join(trustAll.close(), verifying.close()).mapEmpty();
    }
}
