package dev.relay.delivery.mx;

import dev.relay.delivery.metrics.TransportMetrics.DnsResult;

import java.util.List;

/**
 * A definite answer of a DNS server to one question: the records of the asked type (none: NODATA), or NXDOMAIN.
 * Only definite answers are cached; SERVFAIL, other error codes and timeouts never become a {@code DnsAnswer}.
 *
 * @param records    records of the asked type, in the order the server gave them; empty for NODATA and NXDOMAIN
 * @param nxDomain   the name does not exist
 * @param ttlSeconds how long the answer may be cached: the smallest TTL of the answer section for a positive
 *                   answer; for a negative one the SOA's {@code min(TTL, MINIMUM)} (RFC 2308 §5), or
 *                   {@link #UNKNOWN_TTL} when the server sent no SOA (the cache then uses its negative TTL)
 * @param authenticated the resolver set the AD bit (RFC 4035 §3.2.3): it validated the answer with DNSSEC. Read
 *                      only with {@code relay.delivery.dns.dnssec=true}; always false otherwise
 */
record DnsAnswer<T>(List<T> records, boolean nxDomain, long ttlSeconds, boolean authenticated) {

    static final long UNKNOWN_TTL = -1;

    DnsAnswer {
        records = List.copyOf(records);
    }

    DnsAnswer(List<T> records, boolean nxDomain, long ttlSeconds) {
        this(records, nxDomain, ttlSeconds, false);
    }

    /** This answer, marked as DNSSEC-validated by the resolver (or not). */
    DnsAnswer<T> authenticated(boolean ad) {
        return new DnsAnswer<>(records, nxDomain, ttlSeconds, ad);
    }

    static <T> DnsAnswer<T> found(List<T> records, long ttlSeconds) {
        return new DnsAnswer<>(records, false, ttlSeconds);
    }

    static <T> DnsAnswer<T> noData(long ttlSeconds) {
        return new DnsAnswer<>(List.of(), false, ttlSeconds);
    }

    static <T> DnsAnswer<T> nxDomain(long ttlSeconds) {
        return new DnsAnswer<>(List.of(), true, ttlSeconds);
    }

    DnsResult result() {
        return nxDomain ? DnsResult.NXDOMAIN : records.isEmpty() ? DnsResult.NODATA : DnsResult.OK;
    }
}
