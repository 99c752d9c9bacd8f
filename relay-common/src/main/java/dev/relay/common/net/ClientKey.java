package dev.relay.common.net;

/**
 * The key per-client limits count a client address under. An IPv4 client is one address; an IPv6 client is its
 * network of {@code ipv6Prefix} bits (a /64 by default), because one site or host routinely holds a whole /64 and
 * would otherwise get a fresh budget per address. IPv4-mapped IPv6 addresses ({@code ::ffff:192.0.2.1}) count as
 * their IPv4 address. Parsed by {@link IpLiteral}: never a DNS lookup. A zone id or brackets around an IPv6
 * address are ignored; text that is not an IP literal is its own key.
 */
public final class ClientKey {

    /** The prefix length IPv6 clients are keyed by unless configured otherwise. */
    public static final int DEFAULT_IPV6_PREFIX = 64;

    private ClientKey() {
    }

    /** The key of {@code address} with the default IPv6 prefix. */
    public static String of(String address) {
        return of(address, DEFAULT_IPV6_PREFIX);
    }

    /** The key of {@code address}: the IPv4 address, or the IPv6 network as {@code 2001:db8:0:1:0:0:0:0/64}. */
    public static String of(String address, int ipv6Prefix) {
        if (address == null || address.indexOf(':') < 0) {
            return address;
        }
        byte[] bytes = IpLiteral.parse(bare(address));
        if (bytes == null || bytes.length != 16) {
            return address;
        }
        if (mappedIpv4(bytes)) {
            return (bytes[12] & 0xff) + "." + (bytes[13] & 0xff) + "." + (bytes[14] & 0xff) + "." + (bytes[15] & 0xff);
        }
        int prefix = Math.max(0, Math.min(128, ipv6Prefix));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            int group = (bytes[2 * i] & 0xff) << 8 | (bytes[2 * i + 1] & 0xff);
            int keep = Math.max(0, Math.min(16, prefix - 16 * i));
            int mask = keep == 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
            sb.append(i == 0 ? "" : ":").append(Integer.toHexString(group & mask));
        }
        return sb.append('/').append(prefix).toString();
    }

    /** Without brackets and zone id: the address part the literal parser judges. */
    private static String bare(String address) {
        String t = address;
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1);
        }
        int zone = t.indexOf('%');
        return zone >= 0 ? t.substring(0, zone) : t;
    }

    private static boolean mappedIpv4(byte[] bytes) {
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
    }
}
