package dev.relay.delivery.mx;

import dev.relay.common.net.Cidr;
import dev.relay.common.net.IpLiteral;

import java.util.Arrays;
import java.util.List;

/**
 * Refuses to connect to addresses that are not on the public internet, whatever DNS or a route says. An MX record
 * is chosen by whoever controls the recipient domain, so without this guard anyone could make the relay talk SMTP
 * to our own internal services (SSRF), to the cloud metadata endpoint, or to itself (mail loop).
 *
 * <p>Three classes of address (docs/adr/0008-hostile-remote-servers.md):
 * <ul>
 *   <li><b>never</b>: unspecified, link-local (the metadata endpoint 169.254.169.254 and fd00:ec2::254's
 *       neighbours), multicast, reserved and broadcast, documentation, benchmarking, the 6to4 relay anycast
 *       192.88.99.0/24, discard-only, ORCHID, Teredo 2001::/32 (its embedded server address is not the host
 *       reached), IPv4-compatible ::/96 (deprecated) and local-use NAT64 64:ff9b:1::/48;</li>
 *   <li><b>internal</b>: loopback, RFC 1918, CGNAT 100.64/10, ULA fc00::/7 and site-local fec0::/10 — refused,
 *       except for a next hop the operator configured with {@code ;internal} (a smarthost or static route);</li>
 *   <li>everything else is public.</li>
 * </ul>
 * Addresses that carry an IPv4 address are judged by it: IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96 (RFC 6052)
 * and 6to4 2002::/16 (RFC 3056). Anything that is not an IP literal by {@link IpLiteral} is refused: the guard
 * judges addresses, never names, so what it judged is what is connected to.
 *
 * <p>A refused address is a permanent failure of the recipient (the DNS says what it says; retrying will not
 * change that), reported as {@code 5.4.4}. MX-derived destinations are never internal. Tests and local runs whose
 * MX records point at 127.0.0.1 set the test-only escape hatch
 * {@code relay.delivery.test-only-allow-private-mx}, which treats every destination as internal.
 */
public final class DestinationGuard {

    private static final List<Cidr> NEVER = cidrs(
            "0.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
            "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
            "::/96", "100::/64", "2001::/32", "2001:2::/48", "2001:10::/28", "2001:20::/28", "2001:db8::/32",
            "3fff::/20", "64:ff9b:1::/48", "fe80::/10", "ff00::/8");

    private static final List<Cidr> INTERNAL = cidrs(
            "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
            "::1/128", "fc00::/7", "fec0::/10");

    private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");
    private static final Cidr SIX_TO_FOUR = Cidr.parse("2002::/16");

    private final boolean testOnlyAllowPrivate;

    /** @param testOnlyAllowPrivate every destination counts as internal: for tests and local runs only */
    public DestinationGuard(boolean testOnlyAllowPrivate) {
        this.testOnlyAllowPrivate = testOnlyAllowPrivate;
    }

    /** The strict guard of production: only public addresses, except for next hops configured as internal. */
    public static DestinationGuard strict() {
        return new DestinationGuard(false);
    }

    /** True when we may connect to this IP literal for a destination found in DNS (MX, A, AAAA). */
    public boolean permits(String address) {
        return permits(address, false);
    }

    /**
     * True when we may connect to this IP literal.
     *
     * @param internalHop the destination is a next hop the operator configured as internal
     */
    public boolean permits(String address, boolean internalHop) {
        byte[] bytes = IpLiteral.parse(address);
        return bytes != null && permits(bytes, internalHop || testOnlyAllowPrivate);
    }

    private static boolean permits(byte[] address, boolean internalAllowed) {
        byte[] embedded = embeddedIpv4(address);
        if (embedded != null) {
            return permits(embedded, internalAllowed);
        }
        if (INTERNAL.stream().anyMatch(c -> c.contains(address))) {
            return internalAllowed; // before NEVER: ::1 lies inside the IPv4-compatible ::/96
        }
        return NEVER.stream().noneMatch(c -> c.contains(address));
    }

    /** The IPv4 address inside an IPv4-mapped, NAT64 (well-known prefix) or 6to4 address; null otherwise. */
    private static byte[] embeddedIpv4(byte[] address) {
        if (address.length != 16) {
            return null;
        }
        if (Cidr.isIpv4Mapped(address) || NAT64.contains(address)) {
            return Arrays.copyOfRange(address, 12, 16);
        }
        if (SIX_TO_FOUR.contains(address)) {
            return Arrays.copyOfRange(address, 2, 6);
        }
        return null;
    }

    private static List<Cidr> cidrs(String... networks) {
        return Arrays.stream(networks).map(Cidr::parse).toList();
    }
}
