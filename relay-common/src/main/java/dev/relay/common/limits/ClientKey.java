package dev.relay.common.limits;

import java.util.Locale;

/**
 * The key per-client limits count a client address under. An IPv4 client is one address; an IPv6 client is its
 * network of {@code ipv6Prefix} bits (a /64 by default), because one site or host routinely holds a whole /64 and
 * would otherwise get a fresh budget per address. IPv4-mapped IPv6 addresses ({@code ::ffff:192.0.2.1}) count as
 * their IPv4 address. Pure text parsing: never a DNS lookup. Text that is not an IP literal is its own key.
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
        int[] groups = ipv6(address);
        if (groups == null) {
            return address;
        }
        if (groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 && groups[4] == 0
                && groups[5] == 0xffff) {
            return (groups[6] >> 8) + "." + (groups[6] & 0xff) + "." + (groups[7] >> 8) + "." + (groups[7] & 0xff);
        }
        int prefix = Math.max(0, Math.min(128, ipv6Prefix));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            int keep = Math.max(0, Math.min(16, prefix - 16 * i));
            int mask = keep == 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
            sb.append(i == 0 ? "" : ":").append(Integer.toHexString(groups[i] & mask));
        }
        return sb.append('/').append(prefix).toString();
    }

    /** The eight 16-bit groups of an IPv6 literal (with {@code ::}, an embedded IPv4 tail, a zone id), or null. */
    static int[] ipv6(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        int zone = t.indexOf('%');
        if (zone >= 0) {
            t = t.substring(0, zone);
        }
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1);
        }
        int[] groups = new int[8];
        int gap = t.indexOf("::");
        if (gap >= 0 && t.indexOf("::", gap + 1) >= 0) {
            return null;
        }
        String head = gap < 0 ? t : t.substring(0, gap);
        String tail = gap < 0 ? "" : t.substring(gap + 2);
        int[] front = groups(head);
        int[] back = groups(tail);
        if (front == null || back == null) {
            return null;
        }
        int total = front.length + back.length;
        if (gap < 0 ? total != 8 : total > 7) {
            return null;
        }
        System.arraycopy(front, 0, groups, 0, front.length);
        System.arraycopy(back, 0, groups, 8 - back.length, back.length);
        return groups;
    }

    /** Colon-separated hex groups, the last of which may be a dotted IPv4 address (two groups); "" is none. */
    private static int[] groups(String part) {
        if (part.isEmpty()) {
            return new int[0];
        }
        String[] pieces = part.split(":", -1);
        int last = pieces.length - 1;
        boolean v4 = pieces[last].indexOf('.') >= 0;
        int[] out = new int[pieces.length + (v4 ? 1 : 0)];
        for (int i = 0; i < pieces.length; i++) {
            String p = pieces[i];
            if (i == last && v4) {
                int[] octets = ipv4(p);
                if (octets == null) {
                    return null;
                }
                out[i] = octets[0] << 8 | octets[1];
                out[i + 1] = octets[2] << 8 | octets[3];
            } else {
                if (p.isEmpty() || p.length() > 4 || !p.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                    return null;
                }
                out[i] = Integer.parseInt(p, 16);
            }
        }
        return out;
    }

    private static int[] ipv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        int[] octets = new int[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            octets[i] = Integer.parseInt(p);
            if (octets[i] > 255) {
                return null;
            }
        }
        return octets;
    }
}
