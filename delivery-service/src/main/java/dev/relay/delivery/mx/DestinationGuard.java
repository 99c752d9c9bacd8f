package dev.relay.delivery.mx;

import dev.relay.common.rules.Cidr;

import java.util.List;

/**
 * Refuses to connect to addresses that are not on the public internet, whatever DNS or a route says: loopback,
 * RFC 1918 private, CGNAT (RFC 6598, 100.64/10), link-local including the cloud metadata endpoint
 * 169.254.169.254, unspecified, multicast and reserved, and their IPv6 counterparts (ULA fc00::/7, fe80::/10,
 * ::1, ::). An MX record is chosen by whoever controls the recipient domain, so without this guard anyone could
 * make the relay talk SMTP to our own internal services (SSRF) or to itself (mail loop).
 *
 * <p>A refused address is a permanent failure of the recipient (the DNS says what it says; retrying will not
 * change that), reported as {@code 5.4.4}. Local runs and tests, where every server is on 127.0.0.1, set
 * {@code relay.delivery.allow-private-destinations=true}. The guard applies to every destination, also static
 * routes and the smarthost: an operator who relays through an internal smarthost must allow private
 * destinations (a later issue may exempt configured hops).
 */
public final class DestinationGuard {

    private static final List<Cidr> REFUSED = List.of(
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
            "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8"
    ).stream().map(Cidr::parse).toList();

    private final boolean allowPrivate;

    public DestinationGuard(boolean allowPrivate) {
        this.allowPrivate = allowPrivate;
    }

    /** True when we may connect to this IP literal. Anything that is not an IP literal is refused. */
    public boolean permits(String address) {
        byte[] bytes = Cidr.literal(address);
        if (bytes == null) {
            return false;
        }
        if (allowPrivate) {
            return true;
        }
        // IPv4-mapped IPv6 (::ffff:a.b.c.d) arrives here already as 4 bytes: InetAddress converts it.
        for (Cidr cidr : REFUSED) {
            if (cidr.contains(bytes)) {
                return false;
            }
        }
        return true;
    }
}
