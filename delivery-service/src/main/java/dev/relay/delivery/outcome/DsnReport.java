package dev.relay.delivery.outcome;

import dev.relay.common.dsn.RecipientStatus;

/**
 * A recipient's result as a DSN reports it (RFC 3464 §2.3): Status from the carried enhanced status of the
 * wanted class, Remote-MTA from the carried host, Diagnostic-Code from the reply text. Shared by the retry
 * decision (expired, delayed) and the bounce (failed), so that neither parses a reply again.
 */
public final class DsnReport {

    private DsnReport() {
    }

    /**
     * A permanent failure. With a remote host: Status from the enhanced code (else 5.0.0), Remote-MTA and
     * {@code Diagnostic-Code: smtp; <reply>}. Without one (decided here): {@code Diagnostic-Code: X-Relay; ...}.
     */
    public static RecipientStatus failed(RecipientResult r) {
        String status = r.diagnostic().statusOfClass('5');
        if (r.peer() != null) {
            return new RecipientStatus(r.recipient(), RecipientStatus.Action.FAILED, status, r.peer().mta(),
                    "smtp", r.detail());
        }
        return new RecipientStatus(r.recipient(), RecipientStatus.Action.FAILED, status, null,
                r.detail() == null ? null : "X-Relay", r.detail());
    }

    /** Given up on after its retries expired: Status from the last reply's 4.x.x code, else 4.4.7. */
    public static RecipientStatus expired(RecipientResult r) {
        String status = r.diagnostic().statusOfClass('4');
        return new RecipientStatus(r.recipient(), RecipientStatus.Action.FAILED,
                status.equals("4.0.0") ? "4.4.7" : status, mta(r), "smtp", r.detail());
    }

    /** Still being retried: Status from the last reply's 4.x.x code, else 4.0.0. */
    public static RecipientStatus delayed(RecipientResult r) {
        return new RecipientStatus(r.recipient(), RecipientStatus.Action.DELAYED, r.diagnostic().statusOfClass('4'),
                mta(r), "smtp", r.detail());
    }

    /**
     * A success the sender asked for with NOTIFY=SUCCESS (RFC 3461 §5.2.2): {@code delivered} when the hop was the
     * recipient's mailbox store, else {@code relayed} (the server took it but does not offer DSN, so nothing more
     * will be reported). Status from the reply's 2.x.x code, else 2.0.0; Remote-MTA and the 250 reply as
     * Diagnostic-Code.
     */
    public static RecipientStatus succeeded(RecipientResult r, boolean finalMailbox) {
        return new RecipientStatus(r.recipient(), finalMailbox ? RecipientStatus.Action.DELIVERED
                : RecipientStatus.Action.RELAYED, r.diagnostic().statusOfClass('2'), mta(r), "smtp", r.detail());
    }

    private static String mta(RecipientResult r) {
        return r.peer() == null ? null : r.peer().mta();
    }
}
