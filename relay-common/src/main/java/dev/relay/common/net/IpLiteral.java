package dev.relay.common.net;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The one parser of IP address literals in Relay: a strict IPv4 dotted quad ({@code 192.0.2.1}) or an IPv6 address
 * (RFC 4291 §2.2: eight groups of one to four hex digits, at most one {@code ::}, optionally ending in an embedded
 * dotted quad). Pure: it never asks DNS, never blocks, and never calls {@link InetAddress#getByName}, which treats
 * any text that does not parse as a host name to look up. Everything else is a host name, not a literal:
 * {@code f00d.cafe}, {@code beef}, the BSD short forms {@code 127.1} and {@code 1.2.3}, octal or hex octets
 * ({@code 010.0.0.1}, {@code 0x7f.0.0.1}), zone identifiers ({@code fe80::1%eth0}) and brackets. Those forms are
 * refused because resolvers and connect calls disagree about them: what a guard checked must be what is connected
 * to.
 *
 * <p>IPv6 results stay 16 bytes even for IPv4-mapped addresses ({@code ::ffff:127.0.0.1}), unlike
 * {@link InetAddress}: a guard must see the prefix to judge the embedded address.
 */
public final class IpLiteral {

    private IpLiteral() {
    }

    /** The 4 or 16 bytes of {@code text}, or null when it is not an IP literal. */
    public static byte[] parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 45) {
            return null;
        }
        return text.indexOf(':') >= 0 ? ipv6(text) : ipv4(text);
    }

    /** True when {@code text} is an IP literal by {@link #parse}. */
    public static boolean isLiteral(String text) {
        return parse(text) != null;
    }

    /**
     * An {@link InetAddress} of exactly these bytes, without any name and without a lookup; 16 bytes stay an
     * {@link Inet6Address} (also when IPv4-mapped), so that a connect goes to the address that was checked.
     */
    public static InetAddress toInetAddress(byte[] bytes) {
        try {
            return bytes.length == 16 ? Inet6Address.getByAddress(null, bytes, -1) : InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not 4 or 16 bytes", e);
        }
    }

    /** Canonical text: dotted quad, or IPv6 in RFC 5952 form (lower case, longest zero run compressed). */
    public static String format(byte[] bytes) {
        if (bytes.length == 4) {
            return (bytes[0] & 0xff) + "." + (bytes[1] & 0xff) + "." + (bytes[2] & 0xff) + "." + (bytes[3] & 0xff);
        }
        if (bytes.length != 16) {
            throw new IllegalArgumentException("not 4 or 16 bytes");
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    private static byte[] ipv4(String text) {
        byte[] out = new byte[4];
        int part = 0;
        int start = 0;
        for (int i = 0; i <= text.length(); i++) {
            if (i < text.length() && text.charAt(i) != '.') {
                continue;
            }
            if (part == 4) {
                return null;
            }
            int value = octet(text, start, i);
            if (value < 0) {
                return null;
            }
            out[part++] = (byte) value;
            start = i + 1;
        }
        return part == 4 ? out : null;
    }

    /** A decimal octet 0..255 without leading zeros (they mean octal to some parsers); -1 otherwise. */
    private static int octet(String text, int from, int to) {
        int length = to - from;
        if (length < 1 || length > 3 || (length > 1 && text.charAt(from) == '0')) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value <= 255 ? value : -1;
    }

    private static byte[] ipv6(String text) {
        int doubleColon = text.indexOf("::");
        if (doubleColon >= 0 && text.indexOf("::", doubleColon + 1) >= 0) {
            return null;
        }
        byte[] head = new byte[16];
        byte[] tail = new byte[16];
        int headLength;
        int tailLength;
        if (doubleColon < 0) {
            headLength = groups(text, head, true);
            if (headLength != 16) {
                return null;
            }
            return head;
        }
        String before = text.substring(0, doubleColon);
        String after = text.substring(doubleColon + 2);
        headLength = before.isEmpty() ? 0 : groups(before, head, false);
        tailLength = after.isEmpty() ? 0 : groups(after, tail, true);
        if (headLength < 0 || tailLength < 0 || headLength + tailLength > 14) {
            return null; // "::" stands for at least one group of zeros
        }
        byte[] out = new byte[16];
        System.arraycopy(head, 0, out, 0, headLength);
        System.arraycopy(tail, 0, out, 16 - tailLength, tailLength);
        return out;
    }

    /**
     * Parses colon-separated groups into {@code out}; the last part may be a dotted quad when {@code last}.
     * Returns the number of bytes written, or -1 when malformed.
     */
    private static int groups(String text, byte[] out, boolean last) {
        String[] parts = text.split(":", -1);
        int n = 0;
        for (int p = 0; p < parts.length; p++) {
            String part = parts[p];
            if (last && p == parts.length - 1 && part.indexOf('.') >= 0) {
                byte[] v4 = ipv4(part);
                if (v4 == null || n + 4 > 16) {
                    return -1;
                }
                System.arraycopy(v4, 0, out, n, 4);
                n += 4;
                continue;
            }
            if (part.isEmpty() || part.length() > 4 || n + 2 > 16) {
                return -1;
            }
            int value = 0;
            for (int i = 0; i < part.length(); i++) {
                int digit = Character.digit(part.charAt(i), 16);
                if (digit < 0 || part.charAt(i) > 'f') {
                    return -1;
                }
                value = value * 16 + digit;
            }
            out[n++] = (byte) (value >> 8);
            out[n++] = (byte) value;
        }
        return n;
    }
}
