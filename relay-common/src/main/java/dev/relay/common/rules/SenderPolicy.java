package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;

import java.util.Locale;

/**
 * Which MAIL FROM addresses an authenticated identity may use: its Keycloak email, and the addresses and
 * {@code @domain} patterns listed in its {@code smtp_senders} attribute.
 */
public final class SenderPolicy {

    private SenderPolicy() {
    }

    public static boolean owns(Identity identity, MailAddress sender) {
        String address = sender.localPart() + "@" + sender.domainLower();
        if (identity.email() != null && identity.email().equalsIgnoreCase(address)) {
            return true;
        }
        for (String entry : identity.senders()) {
            String e = entry.trim().toLowerCase(Locale.ROOT);
            if (e.startsWith("@") ? e.substring(1).equals(sender.domainLower()) : e.equalsIgnoreCase(address)) {
                return true;
            }
        }
        return false;
    }
}
