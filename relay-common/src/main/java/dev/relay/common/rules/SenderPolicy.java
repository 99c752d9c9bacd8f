package dev.relay.common.rules;

import dev.relay.common.address.MailAddress;
import dev.relay.common.envelope.Identity;

import java.util.List;
import java.util.Locale;

/**
 * Which MAIL FROM addresses an authenticated identity may use: its Keycloak email, the addresses and
 * {@code @domain} patterns listed in its {@code smtp_senders} attribute, and every address in a verified domain of
 * a Keycloak organisation it belongs to ({@link Identity#organizations()}: the ingress puts only verified domains
 * there, so an unverified domain never counts).
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
        for (List<String> domains : identity.organizations().values()) {
            if (domains.contains(sender.domainLower())) {
                return true;
            }
        }
        return false;
    }
}
