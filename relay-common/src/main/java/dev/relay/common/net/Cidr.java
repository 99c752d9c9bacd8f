package dev.relay.common.net;

import java.util.Arrays;

/**
 * An IPv4 or IPv6 network such as {@code 127.0.0.0/8} or {@code ::1/128}. Never does a DNS lookup: addresses are
 * read by {@link IpLiteral}, the one literal parser. An IPv4-mapped IPv6 address ({@code ::ffff:10.0.0.1}) is 16
 * bytes; {@link #contains(byte[])} judges it by its embedded IPv4 address, which is the host it reaches.
 */
public record Cidr(byte[] network, int prefix) {

    public static Cidr parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        byte[] bytes = literal(addr);
        if (bytes == null) {
            throw new IllegalArgumentException("not an IP network: " + text);
        }
        int prefix;
        try {
            prefix = slash < 0 ? bytes.length * 8 : Integer.parseInt(t.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad prefix length: " + text);
        }
        if (prefix < 0 || prefix > bytes.length * 8) {
            throw new IllegalArgumentException("bad prefix length: " + text);
        }
        return new Cidr(bytes, prefix);
    }

    /** Parses an IP literal without touching DNS ({@link IpLiteral#parse}); null when the text is not one. */
    public static byte[] literal(String text) {
        return IpLiteral.parse(text);
    }

    public boolean contains(String address) {
        byte[] candidate = literal(address);
        return candidate != null && contains(candidate);
    }

    public boolean contains(byte[] candidate) {
        if (candidate.length == 16 && network.length == 4 && isIpv4Mapped(candidate)) {
            return contains(Arrays.copyOfRange(candidate, 12, 16));
        }
        if (candidate.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (candidate[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (candidate[full] & mask) == (network[full] & mask);
    }

    /** {@code ::ffff:0:0/96} (RFC 4291 §2.5.5.2). */
    public static boolean isIpv4Mapped(byte[] address) {
        if (address.length != 16 || (address[10] & 0xff) != 0xff || (address[11] & 0xff) != 0xff) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
