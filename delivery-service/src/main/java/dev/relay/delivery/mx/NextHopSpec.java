package dev.relay.delivery.mx;

import dev.relay.delivery.transport.TlsPolicy;

/**
 * A next hop written in configuration: {@code host:port}, {@code [ipv6]:port} or {@code host}, optionally
 * followed by {@code ;tls=none|opportunistic|required|verify}. Example: {@code smtp.example.net:587;tls=verify}.
 *
 * @param host the host name or IP literal (brackets removed)
 * @param port the port, or 0 for the delivery default
 * @param tls  the TLS policy, opportunistic unless given
 */
public record NextHopSpec(String host, int port, TlsPolicy tls) {

    public static NextHopSpec parse(String text) {
        String t = text.strip();
        TlsPolicy tls = TlsPolicy.OPPORTUNISTIC;
        int semicolon = t.indexOf(';');
        if (semicolon >= 0) {
            String option = t.substring(semicolon + 1).strip();
            if (!option.startsWith("tls=")) {
                throw new IllegalArgumentException("unknown next-hop option in '" + text + "'");
            }
            tls = TlsPolicy.parse(option.substring(4));
            t = t.substring(0, semicolon).strip();
        }
        String host;
        String port = null;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("unterminated IPv6 literal in '" + text + "'");
            }
            host = t.substring(1, close);
            if (t.length() > close + 1) {
                if (t.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException("bad next hop '" + text + "'");
                }
                port = t.substring(close + 2);
            }
        } else {
            int colon = t.lastIndexOf(':');
            if (colon >= 0 && t.indexOf(':') != colon) {
                host = t; // a bare IPv6 literal without port
            } else if (colon >= 0) {
                host = t.substring(0, colon);
                port = t.substring(colon + 1);
            } else {
                host = t;
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("no host in next hop '" + text + "'");
        }
        int p = 0;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port in next hop '" + text + "'");
            }
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException("bad port in next hop '" + text + "'");
            }
        }
        return new NextHopSpec(host, p, tls);
    }
}
