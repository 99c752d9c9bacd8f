package dev.relay.ingress.smtp.protocol;

import dev.relay.common.net.IpLiteral;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Parses the PROXY protocol header (HAProxy's specification, versions 1 and 2) that a load balancer sends before
 * any SMTP byte, carrying the real client address. Pure; accepts only what the specification allows.
 */
public final class ProxyHeader {

    /** v2 signature: \r\n\r\n\0\r\nQUIT\n */
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    /** v1: the longest possible line, CRLF included. */
    private static final int V1_MAX = 107;

    /** What the bytes so far amount to. */
    public sealed interface Result {
        /** Not enough bytes yet. */
        record NeedMore() implements Result {
        }

        record Invalid(String reason) implements Result {
        }

        /**
         * @param sourceAddress the real client, or null for LOCAL (v2) / UNKNOWN (v1): the connection's own address
         *                      then stands (health checks of the load balancer)
         * @param length        bytes the header took; what follows is the client's
         */
        record Parsed(String sourceAddress, int length) implements Result {
        }
    }

    private ProxyHeader() {
    }

    public static Result parse(byte[] bytes, int length) {
        if (startsWith(bytes, length, V2_SIGNATURE)) {
            return v2(bytes, length);
        }
        if (startsWith(bytes, length, V1_PREFIX)) {
            return v1(bytes, length);
        }
        boolean couldBe = prefixOf(bytes, length, V2_SIGNATURE) || prefixOf(bytes, length, V1_PREFIX);
        return couldBe ? new Result.NeedMore() : new Result.Invalid("no PROXY protocol header");
    }

    private static Result v1(byte[] bytes, int length) {
        int end = -1;
        for (int i = 0; i + 1 < Math.min(length, V1_MAX); i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            return length >= V1_MAX ? new Result.Invalid("PROXY v1 line too long") : new Result.NeedMore();
        }
        String[] f = new String(bytes, 0, end, StandardCharsets.US_ASCII).split(" ", -1);
        if (f.length >= 2 && f[1].equals("UNKNOWN")) {
            return new Result.Parsed(null, end + 2);
        }
        if (f.length != 6 || !(f[1].equals("TCP4") || f[1].equals("TCP6"))) {
            return new Result.Invalid("malformed PROXY v1 line");
        }
        String source = literal(f[2], f[1].equals("TCP4") ? 4 : 16);
        if (source == null || literal(f[3], f[1].equals("TCP4") ? 4 : 16) == null || !port(f[4]) || !port(f[5])) {
            return new Result.Invalid("malformed PROXY v1 addresses");
        }
        return new Result.Parsed(source, end + 2);
    }

    private static Result v2(byte[] bytes, int length) {
        if (length < 16) {
            return new Result.NeedMore();
        }
        int versionCommand = bytes[12] & 0xff;
        int family = bytes[13] & 0xff;
        int addressLength = ((bytes[14] & 0xff) << 8) | (bytes[15] & 0xff);
        if (versionCommand >> 4 != 2) {
            return new Result.Invalid("unsupported PROXY version");
        }
        int total = 16 + addressLength;
        if (length < total) {
            return new Result.NeedMore();
        }
        int command = versionCommand & 0x0f;
        if (command == 0) { // LOCAL
            return new Result.Parsed(null, total);
        }
        if (command != 1) {
            return new Result.Invalid("unsupported PROXY command");
        }
        int addressFamily = family >> 4;
        if (addressFamily == 1 && addressLength >= 12) {
            return new Result.Parsed(address(Arrays.copyOfRange(bytes, 16, 20)), total);
        }
        if (addressFamily == 2 && addressLength >= 36) {
            return new Result.Parsed(address(Arrays.copyOfRange(bytes, 16, 32)), total);
        }
        if (addressFamily == 0) { // UNSPEC
            return new Result.Parsed(null, total);
        }
        return new Result.Invalid("unsupported PROXY address family");
    }

    /**
     * The address of the given family, by the one pure literal parser ({@link IpLiteral}): never a DNS lookup on
     * the event loop for hex-looking text such as {@code beef}, and no short forms such as {@code 127.1}.
     */
    private static String literal(String text, int bytes) {
        byte[] parsed = IpLiteral.parse(text);
        return parsed != null && parsed.length == bytes ? address(parsed) : null;
    }

    private static String address(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw).getHostAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static boolean port(String text) {
        return text.matches("[0-9]{1,5}") && Integer.parseInt(text) <= 65535;
    }

    private static boolean startsWith(byte[] bytes, int length, byte[] prefix) {
        return length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static boolean prefixOf(byte[] bytes, int length, byte[] prefix) {
        int n = Math.min(length, prefix.length);
        return Arrays.equals(bytes, 0, n, prefix, 0, n);
    }
}
