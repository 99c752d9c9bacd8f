package dev.relay.common.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * The name this process gives itself towards peers: the EHLO name of the delivery, the Reporting-MTA of DSNs
 * written by the policy and the delivery. One rule for all of them, so that the EHLO name and the name in a
 * bounce agree: a configured, non-blank name wins; else the canonical (fully qualified, as the resolver knows
 * it) name of the local host, because RFC 5321 §4.1.1.1 wants a fully qualified domain name in EHLO and a bare
 * host name says nothing to a remote reader of a DSN; else {@code localhost} when the local host cannot be
 * resolved at all.
 */
public final class HostName {

    private HostName() {
    }

    /** {@code configured} when it is present and not blank, else {@link #local()}. */
    public static String of(Optional<String> configured) {
        return configured.filter(s -> !s.isBlank()).orElseGet(HostName::local);
    }

    /** The canonical name of the local host, {@code localhost} when it cannot be resolved. */
    public static String local() {
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
