package dev.relay.common.envelope;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The next hop the policy service chose for a group of recipients.
 *
 * <p>Compatibility: a delivery service that does not know a {@link Kind} cannot decode the envelope and
 * dead-letters the record (it never crash-loops on it). A new kind therefore needs the delivery service upgraded
 * before the policy service that emits it ({@link Kind#LOCAL} since issue 13, {@link Kind#DISCARD} since issue 17).
 *
 * @param domain    the recipient domain this hop serves
 * @param kind      how the delivery service finds the host
 * @param host      for STATIC / SMARTHOST: the host name or address; for MX, LOCAL and DISCARD: null
 * @param port      for STATIC / SMARTHOST: the port; 0 means the delivery default
 * @param tlsPolicy none, opportunistic, required or verify (for LOCAL the delivery's mailbox route decides)
 * @param auth      for STATIC / SMARTHOST: the NAME of the credential the delivery service authenticates with
 *                  (its files are in the delivery's credentials directory; no secret ever travels in an envelope);
 *                  null for none. Left out of the JSON when null, so that records written before it decode and
 *                  records without it look as they always did
 */
public record Route(String domain, Kind kind, String host, int port, String tlsPolicy,
                    @JsonInclude(JsonInclude.Include.NON_NULL) String auth) {

    /** A route without AUTH. */
    public Route(String domain, Kind kind, String host, int port, String tlsPolicy) {
        this(domain, kind, host, port, tlsPolicy, null);
    }

    /**
     * MX: the domain's DNS MX. STATIC: a route for the domain. SMARTHOST: the rule set's next hop for all other
     * domains. LOCAL: a local domain of the rule set: the mailbox backend the delivery service is configured with
     * ({@code relay.delivery.mailbox-route}), never the domain's MX (which is Relay itself). DISCARD: the built-in
     * {@link #DISCARD_DOMAIN}: the delivery service acknowledges the recipients as delivered without any network
     * I/O, so that the synthetic probe's mail (docs/adr/0022) leaves nothing behind.
     */
    public enum Kind { MX, STATIC, SMARTHOST, LOCAL, DISCARD }

    /**
     * The recipient domain of the built-in discard route. Under {@code .invalid} (RFC 2606), so it can never be a
     * real destination; no rule set can route it elsewhere.
     */
    public static final String DISCARD_DOMAIN = "discard.relay.invalid";

    public static Route mx(String domain) {
        return new Route(domain, Kind.MX, null, 0, "opportunistic");
    }

    /** A recipient domain of {@code localDomains}: to the delivery's mailbox route. */
    public static Route local(String domain) {
        return new Route(domain, Kind.LOCAL, null, 0, "opportunistic");
    }

    /** The built-in discard route ({@link #DISCARD_DOMAIN}). */
    public static Route discard(String domain) {
        return new Route(domain, Kind.DISCARD, null, 0, "none");
    }

    /** A stable key for grouping recipients that share this hop. */
    public String hopKey() {
        return switch (kind) {
            case MX -> "mx:" + domain;
            case LOCAL -> "local:" + domain;
            case DISCARD -> "discard:" + domain;
            default -> kind.name().toLowerCase() + ":" + host + ":" + port + (auth == null ? "" : ";auth=" + auth);
        };
    }
}
