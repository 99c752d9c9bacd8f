package dev.relay.delivery.transport;

import dev.relay.common.envelope.Dsn;

import java.util.Locale;

import static dev.relay.common.dsn.Xtext.encode;

/**
 * The RFC 3461 parameters a message carries, passed on to a server that advertises DSN: RET and ENVID on MAIL,
 * NOTIFY and ORCPT on RCPT. Values travel decoded in the envelope and are xtext-encoded again here (§4). Without
 * DSN at the server they are dropped, as RFC 3461 §4.1 expects of a relay (which then reports itself, not here).
 */
final class DsnParameters {

    private DsnParameters() {
    }

    /** {@code " RET=HDRS ENVID=..."}, or "" when the message has none. */
    static String mail(Dsn dsn) {
        if (dsn == null) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        if (dsn.ret() != null && (dsn.ret().equalsIgnoreCase("FULL") || dsn.ret().equalsIgnoreCase("HDRS"))) {
            s.append(" RET=").append(dsn.ret().toUpperCase(Locale.ROOT));
        }
        if (dsn.envid() != null && !dsn.envid().isEmpty()) {
            s.append(" ENVID=").append(encode(dsn.envid()));
        }
        return s.toString();
    }

    /** {@code " NOTIFY=FAILURE,DELAY ORCPT=rfc822;..."} for one recipient, or "". */
    static String rcpt(Dsn dsn, String recipient) {
        if (dsn == null) {
            return "";
        }
        Dsn.Recipient r = dsn.recipients().get(recipient);
        if (r == null) {
            r = dsn.recipients().entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(recipient))
                    .map(java.util.Map.Entry::getValue).findFirst().orElse(null);
        }
        if (r == null) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        if (!r.notifyOn().isEmpty()) {
            s.append(" NOTIFY=").append(String.join(",", r.notifyOn()).toUpperCase(Locale.ROOT));
        }
        if (r.orcpt() != null) {
            int semi = r.orcpt().indexOf(';');
            if (semi > 0) {
                s.append(" ORCPT=").append(r.orcpt(), 0, semi).append(';')
                        .append(encode(r.orcpt().substring(semi + 1)));
            }
        }
        return s.toString();
    }
}
