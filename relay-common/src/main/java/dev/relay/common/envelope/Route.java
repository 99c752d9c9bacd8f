package dev.relay.common.envelope;

/**
 * The next hop the policy service chose for a group of recipients.
 *
 * @param domain    the recipient domain this hop serves
 * @param kind      how the delivery service finds the host
 * @param host      for STATIC / SMARTHOST: the host name or address; for MX: null
 * @param port      for STATIC / SMARTHOST: the port; 0 means the delivery default
 * @param tlsPolicy none, opportunistic, required or verify
 */
public record Route(String domain, Kind kind, String host, int port, String tlsPolicy) {

    public enum Kind { MX, STATIC, SMARTHOST }

    public static Route mx(String domain) {
        return new Route(domain, Kind.MX, null, 0, "opportunistic");
    }

    /** A stable key for grouping recipients that share this hop. */
    public String hopKey() {
        return kind == Kind.MX ? "mx:" + domain : kind.name().toLowerCase() + ":" + host + ":" + port;
    }
}
