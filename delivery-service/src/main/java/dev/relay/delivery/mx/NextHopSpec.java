package dev.relay.delivery.mx;

import dev.relay.delivery.auth.Credential;
import dev.relay.delivery.transport.TlsPolicy;

/**
 * A next hop written in configuration: {@code host:port}, {@code [ipv6]:port} or {@code host}, optionally
 * followed by options, each after a {@code ;}: {@code tls=none|opportunistic|required|verify}, and
 * {@code internal} for a next hop that may be on a private network (loopback, RFC 1918, CGNAT, ULA: an internal
 * smarthost or mailbox store), and {@code auth=<credential>} to AUTH with that credential
 * ({@code relay.delivery.auth.credentials-dir}). Example: {@code smtp.example.net:587;tls=verify;auth=provider},
 * {@code mailstore.cluster.local:25;tls=required;internal}. Only hops written here can be internal: what DNS or a
 * message chose never is ({@link DestinationGuard}).
 *
 * <p>A credential is only ever sent over TLS: a hop with {@code auth} gets at least {@code tls=required} (an
 * opportunistic or unset policy is raised; {@code tls=none} together with {@code auth} is refused).
 *
 * @param host     the host name or IP literal (brackets removed)
 * @param port     the port, or 0 for the delivery default
 * @param tls      the TLS policy, opportunistic unless given
 * @param internal the operator allows this hop to resolve to a private address
 * @param auth     the name of the credential to AUTH with, null for none
 */
public record NextHopSpec(String host, int port, TlsPolicy tls, boolean internal, String auth) {

    public NextHopSpec {
        if (auth != null) {
            if (!Credential.validName(auth)) {
                throw new IllegalArgumentException("credential names are [a-z0-9-]{1,63}");
            }
            if (tls == TlsPolicy.NONE) {
                throw new IllegalArgumentException("auth=" + auth + " needs TLS: a credential is never sent in "
                        + "plain text (tls=none)");
            }
            if (!tls.mandatory()) {
                tls = TlsPolicy.REQUIRED;
            }
        }
    }

    /** A public next hop. */
    public NextHopSpec(String host, int port, TlsPolicy tls) {
        this(host, port, tls, false);
    }

    /** A next hop without AUTH. */
    public NextHopSpec(String host, int port, TlsPolicy tls, boolean internal) {
        this(host, port, tls, internal, null);
    }

    public static NextHopSpec parse(String text) {
        String t = text.strip();
        TlsPolicy tls = TlsPolicy.OPPORTUNISTIC;
        boolean internal = false;
        String auth = null;
        int semicolon = t.indexOf(';');
        if (semicolon >= 0) {
            for (String raw : t.substring(semicolon + 1).split(";", -1)) {
                String option = raw.strip();
                if (option.startsWith("tls=")) {
                    tls = TlsPolicy.parse(option.substring(4));
                } else if (option.equals("internal")) {
                    internal = true;
                } else if (option.startsWith("auth=")) {
                    auth = option.substring(5).strip();
                    if (!Credential.validName(auth)) {
                        throw new IllegalArgumentException("bad credential name in '" + text
                                + "': credential names are [a-z0-9-]{1,63}");
                    }
                } else {
                    throw new IllegalArgumentException("unknown next-hop option '" + option + "' in '" + text + "'");
                }
            }
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
        try {
            return new NextHopSpec(host, p, tls, internal, auth);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " in '" + text + "'");
        }
    }
}
