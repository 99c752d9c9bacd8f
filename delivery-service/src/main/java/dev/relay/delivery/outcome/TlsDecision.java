package dev.relay.delivery.outcome;

import java.util.List;

/**
 * The outbound TLS decision of one delivery attempt to one host, as bounded values for the delivery event
 * ({@code RelayEvent.tlsPolicy}) and what TLS-RPT (RFC 8460) reports about it.
 *
 * @param policy        {@code none}, {@code may}, {@code encrypt}, {@code verify}, {@code secure}, {@code dane},
 *                      {@code dane-only}
 * @param source        {@code table}, {@code dane}, {@code mta-sts}, {@code default} or {@code route}
 * @param dane          {@code verified} (TLSA records in force), {@code failed}, {@code no-tlsa}, {@code insecure},
 *                      {@code lookup-failed}; null when DANE was not considered (DNSSEC off, no DANE entry)
 * @param host          the MX host the decision is about (null: the decision holds for every host)
 * @param reportType    the RFC 8460 policy-type: {@code sts}, {@code tlsa} or {@code no-policy-found}
 * @param reportStrings the RFC 8460 policy-string: the MTA-STS policy's lines, or the TLSA records in zone-file
 *                      notation; empty for {@code no-policy-found}
 */
public record TlsDecision(String policy, String source, String dane, String host, String reportType,
                          List<String> reportStrings) {

    public static final String STS = "sts";
    public static final String TLSA = "tlsa";
    public static final String NO_POLICY = "no-policy-found";

    public TlsDecision {
        reportStrings = reportStrings == null ? List.of() : List.copyOf(reportStrings);
    }

    /** A decision no published policy made (table, route, default). */
    public static TlsDecision unpublished(String policy, String source, String dane, String host) {
        return new TlsDecision(policy, source, dane, host, NO_POLICY, List.of());
    }

    /** The same decision with the DANE result given. */
    public TlsDecision withDane(String daneResult) {
        return new TlsDecision(policy, source, daneResult, host, reportType, reportStrings);
    }

    /** The same decision about {@code mxHost}. */
    public TlsDecision forHost(String mxHost) {
        return new TlsDecision(policy, source, dane, mxHost, reportType, reportStrings);
    }
}
