package dev.relay.common.rules;

import dev.relay.common.envelope.Identity;
import dev.relay.common.net.ClientKey;

import java.util.Locale;
import java.util.Optional;

/**
 * Who a message counts against: the authenticated identity (by username), the sender's domain (none for the
 * null sender {@code <>}: bounces are not limited) and the client address (IPv6 by its /64, {@link ClientKey}).
 */
public record Subject(Identity identity, String senderDomain, String clientAddress) {

    /** @param mailFrom the reverse path without brackets; "" for {@code <>} */
    public static Subject of(Identity identity, String mailFrom, String clientAddress) {
        // mailFrom is an address the ingress already parsed (MailAddress.toString, domain without '@'); parsing it
        // again would need the message's SMTPUTF8 flag and would drop the domain of a sender it cannot re-read
        int at = mailFrom == null ? -1 : mailFrom.lastIndexOf('@');
        String domain = at < 0 ? null : mailFrom.substring(at + 1).toLowerCase(Locale.ROOT);
        return new Subject(identity, domain, clientAddress);
    }

    public Optional<String> key(Per per) {
        return Optional.ofNullable(switch (per) {
            case IDENTITY -> identity == null ? null : identity.username().toLowerCase(Locale.ROOT);
            case SENDER_DOMAIN -> senderDomain;
            case CLIENT_ADDRESS -> ClientKey.of(clientAddress); // an IPv6 client counts by its /64
            case AUTH_CLIENT, AUTH_USER, AUTH_USER_CLIENT -> null; // the AUTH throttle's, not a message's
        });
    }
}
