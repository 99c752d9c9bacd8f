package dev.relay.common.address;

import java.util.Locale;

/**
 * A mailbox {@code local-part@domain} that passed {@link AddressParser}. The local part is kept exactly as
 * written (it is case-sensitive in principle, RFC 5321 §2.4); the domain compares case-insensitively.
 */
public record MailAddress(String localPart, String domain) {

    public String domainLower() {
        return domain.toLowerCase(Locale.ROOT);
    }

    public boolean isAscii() {
        return (localPart + domain).chars().allMatch(c -> c < 0x80);
    }

    @Override
    public String toString() {
        return localPart + "@" + domain;
    }
}
