package dev.relay.delivery.transport;

import io.vertx.core.Future;
import org.jboss.logging.Logger;

/**
 * One SMTP session with one target, phase by phase:
 * greeting → EHLO (HELO) → STARTTLS → MAIL → RCPT… → DATA → QUIT.
 * Refusals end the chain as values ({@link Step.Stop}); I/O failures (timeout, lost connection, garbage) are
 * exceptions and are turned into an outcome here: before the server accepted MAIL the host counts as
 * unreachable, afterwards recipients it already answered keep their answer and the rest are transient.
 */
final class SmtpSession {

    private static final Logger LOG = Logger.getLogger(SmtpSession.class);

    private final SmtpConnection conn;
    private final Transaction tx;
    private final String heloName;
    private final SmtpTimeouts timeouts;

    SmtpSession(SmtpConnection conn, OutboundMessage message, String heloName, SmtpTimeouts timeouts) {
        this.conn = conn;
        this.tx = new Transaction(message, conn.target().describe());
        this.heloName = heloName;
        this.timeouts = timeouts;
    }

    Future<HopOutcome> run() {
        return GreetingPhase.run(conn, timeouts.command())
                .compose(Step.then(greeting -> EhloPhase.run(conn, heloName, timeouts.command())))
                .compose(Step.then(caps -> StartTlsPhase.run(conn, caps, heloName, timeouts.command())))
                .compose(Step.then(caps -> MailPhase.run(conn, caps, tx, timeouts.command())))
                .compose(Step.then(v -> RcptPhase.run(conn, tx, timeouts.command())))
                .compose(Step.then(accepted -> DataPhase.run(conn, tx, timeouts)))
                .map(Step::outcome)
                .recover(this::ioFailure)
                .compose(outcome -> QuitPhase.run(conn, timeouts.command()).map(outcome));
    }

    private Future<HopOutcome> ioFailure(Throwable cause) {
        String reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        LOG.debugf("session with %s failed: %s", conn.target().describe(), reason);
        if (!tx.mailAccepted()) {
            return Future.succeededFuture(new HopOutcome.Unreachable(reason));
        }
        return Future.succeededFuture(tx.finish(DeliveryStatus.TRANSIENT, "451 4.4.2 " + reason));
    }
}
