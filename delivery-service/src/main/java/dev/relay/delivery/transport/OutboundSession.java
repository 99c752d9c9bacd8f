package dev.relay.delivery.transport;

import dev.relay.delivery.auth.Credential;
import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.Phase;
import io.vertx.core.Future;
import org.jboss.logging.Logger;

import javax.net.ssl.SSLSession;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Connection scope of the client side (the ingress's server side has its own {@code SmtpSession}): one
 * connection that has been greeted, said EHLO, (as its TLS policy demands) started TLS and (when the hop names a
 * credential) authenticated with AUTH ({@link AuthPhase}), and the capabilities the server offers. It carries one
 * or more transactions (transaction scope: {@link OutboundTransaction}), each {@code MAIL → RCPT… → DATA},
 * pipelined when the server offers PIPELINING (RFC 2920); between two transactions an aborted one is cleared with
 * RSET. A large message goes with BDAT instead of DATA when the server offers CHUNKING ({@link BdatPhase},
 * {@link Chunking}).
 *
 * <p>Refusals end a transaction as values ({@link Step.Stop}); I/O failures (timeout, lost connection, garbage)
 * are exceptions and are turned into an outcome here: before the server accepted MAIL the host counts as
 * unreachable, afterwards recipients it already answered keep their answer and the rest are transient. Every
 * method runs on the connection's event loop. {@code onClosed} runs exactly once, whoever closes.
 */
final class OutboundSession {

    private static final Logger LOG = Logger.getLogger(OutboundSession.class);

    private final OutboundConnection conn;
    private final String heloName;
    private final SmtpTimeouts timeouts;
    private final Runnable onClosed;
    private final OutboundOptions options;
    private Capabilities caps = Capabilities.none();
    private OutboundTransaction last;
    private int transactions;
    /** Closed by whoever came first (QUIT, idle expiry, the server): onClosed frees the slot exactly once. */
    private final AtomicBoolean closed = new AtomicBoolean();

    private OutboundSession(OutboundConnection conn, String heloName, SmtpTimeouts timeouts, Runnable onClosed,
                            OutboundOptions options) {
        this.conn = conn;
        this.options = options;
        this.heloName = heloName;
        this.timeouts = timeouts;
        this.onClosed = onClosed;
    }

    /** Without AUTH and CHUNKING (tests). */
    static Future<Step<OutboundSession>> establish(OutboundConnection conn, String heloName, SmtpTimeouts timeouts,
                                               Runnable onClosed) {
        return establish(conn, heloName, timeouts, onClosed, OutboundOptions.none(), null);
    }

    /**
     * Greeting → EHLO (HELO) → STARTTLS → AUTH (only with a credential) on a freshly connected socket. Next: a
     * session ready for transactions. Stop: {@link HopOutcome.Unreachable} (with {@code throttled} when the server
     * said 421 or 4.7.x), {@link HopOutcome.LoopsBack} when the server greeted with our own name, or
     * {@link HopOutcome.Refused} when AUTH failed or must not happen; the connection is then already quit and
     * closed.
     *
     * @param credential what to AUTH with, the one the target names; null: no AUTH
     */
    static Future<Step<OutboundSession>> establish(OutboundConnection conn, String heloName, SmtpTimeouts timeouts,
                                               Runnable onClosed, OutboundOptions options, Credential credential) {
        OutboundSession session = new OutboundSession(conn, heloName, timeouts, onClosed, options);
        return conn.onLoop(() -> GreetingPhase.run(conn, new OwnName(heloName), timeouts.command())
                .compose(Step.then(greeting -> EhloPhase.run(conn, heloName, timeouts.command())))
                .compose(Step.then(caps -> StartTlsPhase.run(conn, caps, heloName, timeouts.command())))
                .compose(Step.then(caps -> credential == null ? Step.next(caps)
                        : AuthPhase.run(conn, caps, credential, options.metrics(), timeouts.command())))
                .recover(err -> Step.stop(new HopOutcome.Unreachable(reason(err))))
                .compose(step -> {
                    if (step instanceof Step.Next<Capabilities> next) {
                        session.caps = next.value();
                        return Future.succeededFuture(new Step.Next<>(session));
                    }
                    HopOutcome stopped = ((Step.Stop<Capabilities>) step).outcome();
                    if (stopped instanceof HopOutcome.LoopsBack || stopped instanceof HopOutcome.Refused) {
                        return session.quit().map(new Step.Stop<>(stopped));
                    }
                    HopOutcome.Unreachable u = (HopOutcome.Unreachable) stopped;
                    return session.quit().map(new Step.Stop<>(new HopOutcome.Unreachable(u.reason(),
                            conn.throttled(), u.enhancedStatus())));
                }));
    }

    /** One transaction for {@code message}; never fails. */
    Future<HopOutcome> send(OutboundMessage message) {
        return conn.onLoop(() -> {
            OutboundTransaction tx = new OutboundTransaction(message, conn.target().remote(), tls());
            tx.dsnOffered(caps.has("DSN"));
            last = tx;
            transactions++;
            conn.clearThrottled();
            Supplier<Future<Step<HopOutcome>>> bdat = options.chunking().use(caps, message.data().length)
                    ? () -> BdatPhase.run(conn, caps, tx, options.chunking(), options.metrics(), timeouts) : null;
            Future<Step<HopOutcome>> steps = caps.has("PIPELINING")
                    ? PipelinedPhase.run(conn, caps, tx, timeouts, bdat)
                    : MailPhase.run(conn, caps, tx, timeouts.command())
                    .compose(Step.then(v -> RcptPhase.run(conn, caps, tx, timeouts.command())))
                    .compose(Step.then(accepted -> bdat != null ? bdat.get() : DataPhase.run(conn, tx, timeouts)));
            return steps.map(Step::outcome).recover(err -> ioFailure(tx, err));
        });
    }

    /** The last transaction got as far as an accepted MAIL: its outcome speaks for the server, not the channel. */
    boolean mailAccepted() {
        return last != null && last.mailAccepted();
    }

    /** A throttling reply (421, 4.7.x) was seen during the handshake or the last transaction. */
    boolean throttled() {
        return conn.throttled();
    }

    int transactions() {
        return transactions;
    }

    SmtpTarget target() {
        return conn.target();
    }

    OutboundConnection connection() {
        return conn;
    }

    boolean usable() {
        return !closed.get() && conn.usable();
    }

    /** TLS protocol and cipher suite, or null on plain text. */
    SSLSession tls() {
        return conn.tlsSession();
    }

    /** The last transaction ended with the reply to the final dot: the server is ready for the next MAIL. */
    boolean clean() {
        return last == null || last.completed();
    }

    /**
     * RSET after an aborted transaction (RFC 5321 §4.1.1.5), so that the session can carry another one. False
     * when it cannot be reused; the caller closes it then.
     */
    Future<Boolean> reset() {
        return conn.onLoop(() -> {
            if (!usable()) {
                return Future.succeededFuture(false);
            }
            return conn.command("RSET", timeouts.command()).map(reply -> {
                if (reply.isPositive()) {
                    last = null;
                }
                return reply.isPositive();
            }).otherwise(false);
        });
    }

    /** QUIT (if the channel still works) and close. The outcome is already decided; nothing here changes it. */
    Future<Void> quit() {
        return conn.onLoop(() -> {
            if (closed.get()) {
                return Future.succeededFuture();
            }
            Future<Void> quit = conn.usable() ? QuitPhase.run(conn, timeouts.command()) : Future.succeededFuture();
            return quit.<Void>transform(ignored -> {
                close();
                return Future.succeededFuture();
            });
        });
    }

    /** Closes without QUIT (the server already went away). */
    void close() {
        conn.close();
        if (closed.compareAndSet(false, true)) {
            onClosed.run();
        }
    }

    private Future<HopOutcome> ioFailure(OutboundTransaction tx, Throwable cause) {
        String reason = reason(cause);
        LOG.debugf("session with %s failed: %s", conn.target().describe(), reason);
        if (!tx.mailAccepted()) {
            return Future.succeededFuture(new HopOutcome.Unreachable(reason, conn.throttled()));
        }
        return Future.succeededFuture(tx.finish(DeliveryStatus.TRANSIENT,
                Diagnostic.ours(Phase.MESSAGE, 451, "4.4.2", reason)));
    }

    private static String reason(Throwable cause) {
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
