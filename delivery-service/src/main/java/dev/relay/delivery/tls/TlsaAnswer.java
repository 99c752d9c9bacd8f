package dev.relay.delivery.tls;

import java.util.List;

/**
 * What the TLSA lookup of one MX host found, as DANE reads it (RFC 7672 §2.2).
 *
 * @param kind    {@link Kind}
 * @param records the TLSA RRset when {@link Kind#SECURE}; empty otherwise
 * @param detail  why, for logs and deferral texts ({@code SERVFAIL}, {@code timeout ...}); empty when nothing to say
 */
public record TlsaAnswer(Kind kind, List<TlsaRecord> records, String detail) {

    public enum Kind {
        /** DNSSEC-validated TLSA records: DANE applies (usable ones) or mandatory TLS (all unusable). */
        SECURE,
        /** No TLSA records (NXDOMAIN, NODATA): not DANE. */
        NONE,
        /** Records, but the resolver did not validate them (no AD bit): not DANE (RFC 7672 §2.2). */
        INSECURE,
        /** SERVFAIL, timeout, a malformed or oversized answer: the host must not be used (RFC 7672 §2.2). */
        FAILED
    }

    public TlsaAnswer {
        records = List.copyOf(records);
    }

    public static TlsaAnswer secure(List<TlsaRecord> records) {
        return new TlsaAnswer(Kind.SECURE, records, "");
    }

    public static TlsaAnswer of(Kind kind, String detail) {
        return new TlsaAnswer(kind, List.of(), detail);
    }

    /** The records DANE can use (RFC 7672 §3.1). */
    public List<TlsaRecord> usable() {
        return records.stream().filter(TlsaRecord::usable).toList();
    }
}
