package dev.relay.delivery.transport;

import dev.relay.delivery.auth.Credential;
import dev.relay.delivery.auth.CredentialUnavailableException;
import dev.relay.delivery.destination.Destination;
import dev.relay.delivery.destination.DestinationGate;
import dev.relay.delivery.destination.DestinationLimits;
import dev.relay.delivery.metrics.TransportMetrics;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.outcome.RemoteHost;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.TrustOptions;
import dev.relay.delivery.tls.CertificateCheck;
import org.jboss.logging.Logger;

import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A byte-exact SMTP client on Vert.x {@link NetClient} (see docs/adr/0002-byte-exact-outbound-smtp.md): it
 * sends the stored message bytes unchanged, which vertx-mail-client cannot do.
 *
 * <p>{@link #deliver} tries the targets of one hop in order (RFC 5321 §5.1) until a server decides about the
 * recipients; when no target can be reached every recipient is transient. For each target, in this order:
 * <ol>
 *   <li>a destination in back-off after a throttling reply is skipped without connecting;</li>
 *   <li>{@code messages-per-minute} admits the message (maybe after a short wait on a timer);</li>
 *   <li>an idle pooled session to the same target is reused — if it turns out dead (EOF, 421) before MAIL was
 *       accepted, a fresh connection is opened instead;</li>
 *   <li>otherwise a connection slot of the destination is taken (waiting in its queue if all are busy) and a new
 *       session opened;</li>
 *   <li>after the transaction the session goes back to the pool (and to the first delivery waiting for a slot of
 *       its destination), or is QUIT.</li>
 * </ol>
 */
public final class SmtpClient {

    private static final Logger LOG = Logger.getLogger(SmtpClient.class);

    /** Like Postfix's smtp_mx_address_limit: a hop with more addresses than this is not tried further. */
    static final int MAX_TARGETS = 5;

    private final Vertx vertx;
    private final String heloName;
    private final SmtpTimeouts timeouts;
    private final DestinationGate gate;
    private final TransportMetrics metrics;
    private final SessionPool pool;
    private final OutboundOptions options;
    /** Opportunistic and required TLS accept any certificate: encryption without authentication (RFC 7435). */
    private final NetClient trustAll;
    /** TLS policy "verify": the JDK's trusted roots, and the host name must match the certificate. */
    private final NetClient verifying;
    /** The WebPKI roots for "verify" with {@code match=} names, checked after the handshake (CertificateCheck). */
    private final X509TrustManager webPki;

    /** A client without connection reuse or destination limits (tools and tests). */
    public SmtpClient(Vertx vertx, String heloName, SmtpTimeouts timeouts) {
        this(vertx, heloName, timeouts, ConnectionReuse.none(),
                new DestinationGate(vertx, DestinationLimits.unlimited()),
                new TransportMetrics(new SimpleMeterRegistry()));
    }

    public SmtpClient(Vertx vertx, String heloName, SmtpTimeouts timeouts, ConnectionReuse reuse,
                      DestinationGate gate, TransportMetrics metrics) {
        this(vertx, heloName, timeouts, reuse, gate, metrics, null, OutboundOptions.none());
    }

    /**
     * @param webPki the roots that "verify" trusts (tests: their own CA); null: the JDK's, loaded here once (a file
     *               read at start, never on an event loop)
     */
    public SmtpClient(Vertx vertx, String heloName, SmtpTimeouts timeouts, ConnectionReuse reuse,
                      DestinationGate gate, TransportMetrics metrics, X509TrustManager webPki) {
        this(vertx, heloName, timeouts, reuse, gate, metrics, webPki, OutboundOptions.none());
    }

    /** @param options AUTH credentials and CHUNKING ({@link OutboundOptions}) */
    public SmtpClient(Vertx vertx, String heloName, SmtpTimeouts timeouts, ConnectionReuse reuse,
                      DestinationGate gate, TransportMetrics metrics, OutboundOptions options) {
        this(vertx, heloName, timeouts, reuse, gate, metrics, null, options);
    }

    /**
     * @param webPki  the roots that "verify" trusts (tests: their own CA); null: the JDK's, loaded here once (a
     *                file read at start, never on an event loop)
     * @param options AUTH credentials and CHUNKING ({@link OutboundOptions})
     */
    public SmtpClient(Vertx vertx, String heloName, SmtpTimeouts timeouts, ConnectionReuse reuse,
                      DestinationGate gate, TransportMetrics metrics, X509TrustManager webPki,
                      OutboundOptions options) {
        this.vertx = vertx;
        this.webPki = webPki == null ? jdkTrustManager() : webPki;
        this.options = options;
        this.heloName = heloName;
        this.timeouts = timeouts;
        this.gate = gate;
        this.metrics = metrics;
        this.pool = new SessionPool(vertx, reuse, parked -> gate.offerIdle(SessionPool.destinationOf(parked.target())));
        int connectMillis = (int) Math.min(Integer.MAX_VALUE, timeouts.connect().toMillis());
        this.trustAll = vertx.createNetClient(new NetClientOptions()
                .setConnectTimeout(connectMillis)
                .setTrustAll(true)
                .setHostnameVerificationAlgorithm(""));
        NetClientOptions verify = new NetClientOptions()
                .setConnectTimeout(connectMillis)
                .setHostnameVerificationAlgorithm("HTTPS");
        if (webPki != null) {
            verify.setTrustOptions(TrustOptions.wrap(webPki));
        }
        this.verifying = vertx.createNetClient(verify);
    }

    private static X509TrustManager jdkTrustManager() {
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init((KeyStore) null);
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509TrustManager x509) {
                    return x509;
                }
            }
            throw new IllegalStateException("the JDK has no X.509 trust manager");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot load the JDK's trusted roots", e);
        }
    }

    /** Delivers to the first target that decides; never fails, every recipient gets a result. */
    public Future<List<RecipientResult>> deliver(List<SmtpTarget> targets, OutboundMessage message) {
        List<SmtpTarget> tried = targets.size() > MAX_TARGETS ? targets.subList(0, MAX_TARGETS) : targets;
        return attempt(tried, 0, message, new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    }

    private Future<List<RecipientResult>> attempt(List<SmtpTarget> targets, int index, OutboundMessage message,
                                                  List<String> failures, List<SmtpTarget> held,
                                                  List<String> statuses) {
        if (index >= targets.size()) {
            return Future.succeededFuture(undelivered(message, failures, held, targets.size(), statuses));
        }
        SmtpTarget target = targets.get(index);
        return toTarget(target, message).compose(outcome -> {
            if (outcome instanceof HopOutcome.Decided decided) {
                return Future.succeededFuture(decided.results());
            }
            String status = outcome instanceof HopOutcome.Unreachable u ? u.enhancedStatus() : null;
            // a status of its own (4.7.5 DANE ...) leads the text, so that the reply reads "4.7.5 DANE: ..."
            String reason = status != null ? ((HopOutcome.Unreachable) outcome).reason() + " (" + target.describe()
                    + ")" : target.describe() + ": " + (outcome instanceof HopOutcome.Held h ? h.reason()
                    : ((HopOutcome.Unreachable) outcome).reason());
            if (outcome instanceof HopOutcome.Held) {
                held.add(target);
            }
            LOG.debugf("message %s: %s, trying next address", message.messageId(), reason);
            failures.add(reason);
            statuses.add(status);
            return attempt(targets, index + 1, message, failures, held, statuses);
        });
    }

    /**
     * Nobody decided. When every target was held back by our own destination limits the reply says so
     * ({@code 4.4.5}, with the held host as remote); when every address failed with the same status of its own
     * (DANE: {@code 4.7.5}) that status; otherwise it lists why each address failed ({@code 4.4.1}).
     */
    private static List<RecipientResult> undelivered(OutboundMessage message, List<String> failures,
                                                     List<SmtpTarget> held, int targets, List<String> statuses) {
        boolean allHeld = targets > 0 && held.size() == targets;
        String reason = failures.isEmpty() ? "no address to connect to" : String.join("; ", failures);
        String shared = statuses.isEmpty() || statuses.get(0) == null
                || statuses.stream().anyMatch(s -> !statuses.get(0).equals(s)) ? null : statuses.get(0);
        Diagnostic detail = Diagnostic.ours(Phase.CONNECT, 451,
                allHeld ? "4.4.5" : shared != null ? shared : "4.4.1", reason);
        RemoteHost remote = allHeld ? held.get(0).remote() : null;
        List<RecipientResult> results = new ArrayList<>();
        for (String rcpt : message.recipients()) {
            results.add(new RecipientResult(rcpt, DeliveryStatus.TRANSIENT, detail, remote));
        }
        return results;
    }

    /** One message to one target, through the destination gate and the pool. Never fails. */
    Future<HopOutcome> toTarget(SmtpTarget target, OutboundMessage message) {
        Destination destination = SessionPool.destinationOf(target);
        Duration backingOff = gate.backingOff(destination);
        if (!backingOff.isZero()) {
            return Future.succeededFuture(new HopOutcome.Held("destination backing off for "
                    + Math.max(1, backingOff.toSeconds()) + "s after a throttling reply"));
        }
        return gate.admitMessage(destination).transform(admitted -> admitted.failed()
                ? Future.succeededFuture(new HopOutcome.Held(admitted.cause().getMessage()))
                : viaPool(target, destination, message));
    }

    private Future<HopOutcome> viaPool(SmtpTarget target, Destination destination, OutboundMessage message) {
        OutboundSession pooled = pool.take(target);
        if (pooled == null) {
            return fresh(target, destination, message);
        }
        metrics.connectionReused();
        return pooled.send(message).compose(outcome -> {
            if (outcome instanceof HopOutcome.Unreachable dead && !pooled.mailAccepted()) {
                // a pooled connection the server meanwhile closed or refuses (EOF, 421): not the message's fault
                LOG.debugf("pooled connection to %s unusable (%s), opening a fresh one", target.describe(),
                        dead.reason());
                pooled.quit();
                return fresh(target, destination, message);
            }
            return finished(pooled, destination, outcome);
        });
    }

    private Future<HopOutcome> fresh(SmtpTarget target, Destination destination, OutboundMessage message) {
        Future<Boolean> slot = gate.acquireConnection(destination);
        if (!slot.isComplete()) {
            pool.evictOne(destination); // an idle connection of this destination gives its slot to us
        }
        return slot.transform(acquired -> {
            if (acquired.failed()) {
                return Future.succeededFuture(new HopOutcome.Held(acquired.cause().getMessage()));
            }
            if (!acquired.result()) {
                // woken because a connection of the destination went idle: use it (or, if it is to another
                // address or someone else was faster, queue again for a slot)
                return viaPool(target, destination, message);
            }
            return open(target, destination).compose(step -> {
                if (step instanceof Step.Stop<OutboundSession> stop
                        && stop.outcome() instanceof HopOutcome.LoopsBack loop) {
                    return Future.succeededFuture(loopsBack(target, loop, message));
                }
                if (step instanceof Step.Stop<OutboundSession> stop
                        && stop.outcome() instanceof HopOutcome.Refused refused) {
                    return Future.succeededFuture(refused(target, refused, message));
                }
                if (step instanceof Step.Stop<OutboundSession> stop) {
                    HopOutcome.Unreachable u = (HopOutcome.Unreachable) stop.outcome();
                    if (u.throttled()) {
                        backOff(destination, u.reason());
                    }
                    return Future.succeededFuture(stop.outcome());
                }
                OutboundSession session = ((Step.Next<OutboundSession>) step).value();
                return session.send(message).compose(outcome -> finished(session, destination, outcome));
            });
        });
    }

    /** Connects and greets; holds the destination slot acquired by the caller until the connection closes. */
    private Future<Step<OutboundSession>> open(SmtpTarget target, Destination destination) {
        if (target.auth() == null) {
            return open(target, destination, null);
        }
        // the credential is read (off the event loop) before connecting: without it there is nothing to try
        Future<Credential> credential = options.credentials()
                .map(store -> store.lookup(target.auth()))
                .orElseGet(() -> Future.failedFuture(new CredentialUnavailableException(target.auth(),
                        "no credentials directory configured")));
        return credential.transform(found -> {
            if (found.failed()) {
                gate.release(destination);
                String why = found.cause() instanceof CredentialUnavailableException ? found.cause().getMessage()
                        : "credential " + target.auth() + " not available: " + found.cause();
                LOG.warnf("%s; mail for %s stays queued", why, target.describe());
                return Step.stop(new HopOutcome.Refused(Diagnostic.ours(Phase.AUTH, 454, "4.7.0", why)));
            }
            return open(target, destination, found.result());
        });
    }

    private Future<Step<OutboundSession>> open(SmtpTarget target, Destination destination, Credential credential) {
        // a target with its own certificate check is judged after the handshake, by that check alone
        NetClient client = target.tls() == TlsPolicy.VERIFY && target.check() == null ? verifying : trustAll;
        return OutboundConnection.open(vertx, client, target, webPki).transform(connected -> {
            if (connected.failed()) {
                gate.release(destination);
                return Step.stop(new HopOutcome.Unreachable("connect failed: " + connected.cause().getMessage()));
            }
            metrics.connectionOpened();
            Runnable onClosed = () -> {
                metrics.connectionClosed();
                gate.release(destination);
            };
            return OutboundSession.establish(connected.result(), heloName, timeouts, onClosed, options, credential)
                    .map(step -> {
                        if (target.check() instanceof CertificateCheck.Dane) {
                            if (step instanceof Step.Next<OutboundSession>) {
                                metrics.dane("verified");
                            } else if (((Step.Stop<OutboundSession>) step).outcome()
                                    instanceof HopOutcome.Unreachable u
                                    && StartTlsPhase.DANE_STATUS.equals(u.enhancedStatus())) {
                                metrics.dane("failed");
                            }
                        }
                        if (step instanceof Step.Next<OutboundSession> next) {
                            SSLSession tls = next.value().tls();
                            metrics.tlsNegotiated(tls == null ? null : tls.getProtocol(),
                                    tls == null ? null : tls.getCipherSuite());
                        }
                        return step;
                    });
        });
    }

    /**
     * The server greeted us with our own name: every recipient bounces {@code 5.4.6} (the connection was already
     * quit), as Postfix's "mail for … loops back to myself".
     */
    private HopOutcome loopsBack(SmtpTarget target, HopOutcome.LoopsBack loop, OutboundMessage message) {
        String first = message.recipients().isEmpty() ? "" : message.recipients().get(0);
        String domain = first.substring(first.lastIndexOf('@') + 1);
        String detail = "554 5.4.6 mail for " + domain + " loops back to myself (" + target.describe()
                + " greeted us with our own name " + heloName + ")";
        LOG.warnf("message %s: %s, %s; bouncing", message.messageId(), target.describe(), loop.reason());
        metrics.loopDetected(TransportMetrics.LoopSeen.GREETING);
        return new HopOutcome.Decided(message.recipients().stream()
                .map(r -> new RecipientResult(r, DeliveryStatus.PERMANENT,
                        new Diagnostic(Phase.GREETING, 554, "5.4.6", detail), target.remote())).toList());
    }

    /**
     * AUTH failed or must not happen (our credential: missing, refused, no TLS, mechanism not offered): every
     * recipient is transient with our {@code 4.7.0} diagnostic, and no other address of the hop is tried (they
     * share the credential).
     */
    private static HopOutcome refused(SmtpTarget target, HopOutcome.Refused refused, OutboundMessage message) {
        return new HopOutcome.Decided(message.recipients().stream()
                .map(r -> new RecipientResult(r, DeliveryStatus.TRANSIENT, refused.reason(), target.remote()))
                .toList());
    }

    /** After a transaction: back off on throttling, else keep the session for the next message. */
    private Future<HopOutcome> finished(OutboundSession session, Destination destination, HopOutcome outcome) {
        if (session.throttled()) {
            backOff(destination, outcome instanceof HopOutcome.Unreachable u ? u.reason() : "throttling reply");
            pool.release(session, false);
        } else {
            if (outcome instanceof HopOutcome.Decided decided
                    && decided.results().stream().anyMatch(r -> r.status().isDelivered())) {
                gate.succeeded(destination);
            }
            pool.release(session, true); // a delivery waiting for the destination is offered it when parked
        }
        return Future.succeededFuture(outcome);
    }

    private void backOff(Destination destination, String why) {
        Duration period = gate.throttled(destination);
        LOG.infof("destination %s throttles us (%s): backing off for %ds", destination, why, period.toSeconds());
    }

    /** Idle pooled connections, for tests and metrics. */
    int idleConnections() {
        return pool.idleCount();
    }

    public Future<Void> close() {
        return pool.close().transform(v -> Future.join(trustAll.close(), verifying.close())).mapEmpty();
    }
}
