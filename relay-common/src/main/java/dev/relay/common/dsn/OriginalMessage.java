package dev.relay.common.dsn;

import dev.relay.common.envelope.Dsn;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a DSN takes from the original message and its envelope: the DSN parameters its sender gave (NOTIFY, ORCPT,
 * RET; RFC 3461 §4) and the part of the original that is returned. Pure; used by {@link DsnComposer}.
 */
final class OriginalMessage {

    private OriginalMessage() {
    }

    /**
     * Whether the recipient's NOTIFY asks for a DSN of this kind (RFC 3461 §4.1): NEVER never; no NOTIFY means
     * FAILURE,DELAY (so never a success DSN); else the conditions named.
     */
    static boolean wanted(Dsn dsn, RecipientStatus status) {
        return wanted(dsn, status.recipient(), switch (status.action()) {
            case FAILED -> "FAILURE";
            case DELAYED -> "DELAY";
            case DELIVERED, RELAYED -> "SUCCESS";
        });
    }

    /** Whether the recipient's NOTIFY names {@code condition} (SUCCESS, FAILURE, DELAY), defaults applied. */
    static boolean wanted(Dsn dsn, String recipient, String condition) {
        Dsn.Recipient params = params(dsn, recipient);
        List<String> notify = params == null ? List.of()
                : params.notifyOn().stream().map(n -> n.trim().toUpperCase(Locale.ROOT)).toList();
        if (notify.contains("NEVER")) {
            return false;
        }
        if (notify.isEmpty()) {
            return !condition.equals("SUCCESS");
        }
        return notify.contains(condition);
    }

    private static Dsn.Recipient params(Dsn dsn, String recipient) {
        if (dsn == null) {
            return null;
        }
        Dsn.Recipient exact = dsn.recipients().get(recipient);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, Dsn.Recipient> e : dsn.recipients().entrySet()) {
            if (e.getKey().equalsIgnoreCase(recipient)) {
                return e.getValue();
            }
        }
        return null;
    }

    static String orcpt(Dsn dsn, String recipient) {
        Dsn.Recipient params = params(dsn, recipient);
        return params == null ? null : params.orcpt();
    }

    static String ret(Dsn dsn) {
        return dsn == null ? null : dsn.ret();
    }

    /** {@code addr-type;address} → {@code addr-type; address}. */
    static String orcptField(String orcpt) {
        int semi = orcpt.indexOf(';');
        if (semi < 0) {
            return "rfc822; " + DsnText.clean(orcpt);
        }
        return DsnText.clean(orcpt.substring(0, semi).trim()) + "; " + DsnText.clean(orcpt.substring(semi + 1).trim());
    }

    /** The original's header section (through the CRLF of its last header line), or all of it if no body. */
    static byte[] headerSection(byte[] message) {
        if (message.length >= 2 && message[0] == '\r' && message[1] == '\n') {
            return new byte[0];
        }
        for (int i = 0; i + 3 < message.length; i++) {
            if (message[i] == '\r' && message[i + 1] == '\n' && message[i + 2] == '\r' && message[i + 3] == '\n') {
                return Arrays.copyOf(message, i + 2);
            }
        }
        return message;
    }
}
