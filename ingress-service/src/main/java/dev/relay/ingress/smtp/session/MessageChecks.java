package dev.relay.ingress.smtp.session;

import dev.relay.common.address.HeaderFrom;
import dev.relay.common.envelope.Identity;
import dev.relay.common.rules.RelayRules;
import dev.relay.ingress.smtp.protocol.MessageBuffer;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

/**
 * The checks on a complete message before it may be stored: what the buffer judged while receiving (bare line
 * endings, size, line length, memory), then the header section's size and its Received: count (RFC 5321 §6.3
 * loop detection; our own header is counted too), and for an authenticated submission the binding of the header
 * {@code From:} to the identity's senders.
 */
final class MessageChecks {

    private MessageChecks() {
    }

    /** The refusal, or null when the message may be stored. */
    static Reply refusal(MessageBuffer buffer, SessionSettings settings) {
        switch (buffer.outcome()) {
            case BARE_LINE_ENDING:
                return Replies.BAD_DATA_LINE_ENDING;
            case TOO_BIG:
                return Replies.MESSAGE_TOO_BIG;
            case LINE_TOO_LONG:
                return Replies.lineTooLong(settings.maxLineLength());
            case NO_MEMORY:
                return Replies.NO_MEMORY;
            default:
                break;
        }
        byte[] message = buffer.bytes();
        int hops = 0;
        int headerEnd = message.length;
        int lineStart = 0;
        for (int i = 0; i + 1 < message.length; i++) {
            if (message[i] != '\r' || message[i + 1] != '\n') {
                continue;
            }
            if (i == lineStart) { // the empty line ends the header section
                headerEnd = i;
                break;
            }
            if (startsWithIgnoreCase(message, lineStart, "Received:")) {
                hops++;
            }
            lineStart = i + 2;
            i++;
        }
        if (headerEnd > settings.maxHeaderSize()) {
            return Replies.HEADER_TOO_BIG;
        }
        return hops > settings.maxHops() ? Replies.TOO_MANY_HOPS : null;
    }

    /**
     * The refusal of a message whose header {@code From:} names an address the authenticated identity may not use
     * (unless a grant it holds sets {@code "headerFrom": "free"}), or null. A From: that cannot be read
     * unambiguously (two fields, unbalanced syntax) is refused too: it could hide an address. A message without
     * From: is not refused (it impersonates nobody). The policy service checks the same, authoritatively.
     */
    static Reply fromRefusal(byte[] message, RelayRules rules, Identity identity) {
        if (!rules.headerFromBound(identity)) {
            return null;
        }
        HeaderFrom.Result from = HeaderFrom.of(message);
        if (!from.present()) {
            return null;
        }
        if (!from.valid()) {
            return Replies.HEADER_FROM_NOT_OWNED;
        }
        return rules.headerFrom(identity, from.addresses()).allowed() ? null : Replies.HEADER_FROM_NOT_OWNED;
    }

    private static boolean startsWithIgnoreCase(byte[] bytes, int from, String prefix) {
        if (from + prefix.length() > bytes.length) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (Character.toLowerCase((char) bytes[from + i]) != Character.toLowerCase(prefix.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
