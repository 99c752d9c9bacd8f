package dev.relay.delivery.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One TLSA record (RFC 6698 §2.1): certificate usage, selector, matching type and the certificate association
 * data. For SMTP only usages DANE-TA(2) and DANE-EE(3) are usable, with selectors Cert(0) and SPKI(1) and matching
 * types Full(0), SHA2-256(1) and SHA2-512(2); every other record is "unusable" and ignored (RFC 7672 §3.1), which
 * is not the same as absent: an RRset of only unusable records still demands TLS (RFC 7672 §2.2).
 *
 * @param usage        0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
 * @param selector     0 the whole certificate, 1 its SubjectPublicKeyInfo
 * @param matchingType 0 the selected bytes themselves, 1 their SHA-256, 2 their SHA-512
 * @param data         the association data, compared with the selected and digested bytes
 */
public record TlsaRecord(int usage, int selector, int matchingType, byte[] data) {

    public static final int DANE_TA = 2;
    public static final int DANE_EE = 3;

    public TlsaRecord {
        data = data.clone();
    }

    /** Decodes the RDATA of a TLSA record: three octets and the association data. */
    public static TlsaRecord parse(byte[] rdata) {
        if (rdata.length < 4) {
            throw new IllegalArgumentException("TLSA record of " + rdata.length + " octets");
        }
        return new TlsaRecord(rdata[0] & 0xff, rdata[1] & 0xff, rdata[2] & 0xff,
                Arrays.copyOfRange(rdata, 3, rdata.length));
    }

    /** A record an SMTP client may use (RFC 7672 §3.1): DANE-TA or DANE-EE, a known selector and matching type. */
    public boolean usable() {
        return (usage == DANE_TA || usage == DANE_EE) && (selector == 0 || selector == 1)
                && (matchingType == 0 && data.length > 0 || matchingType == 1 && data.length == 32
                || matchingType == 2 && data.length == 64);
    }

    /** Whether {@code certificate} (or its public key, per the selector) is the one this record names. */
    public boolean matches(X509Certificate certificate) {
        byte[] selected;
        try {
            selected = selector == 0 ? certificate.getEncoded() : certificate.getPublicKey().getEncoded();
        } catch (CertificateEncodingException e) {
            return false;
        }
        byte[] compared = switch (matchingType) {
            case 0 -> selected;
            case 1 -> digest("SHA-256", selected);
            case 2 -> digest("SHA-512", selected);
            default -> null;
        };
        return compared != null && MessageDigest.isEqual(compared, data);
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TlsaRecord t && t.usage == usage && t.selector == selector
                && t.matchingType == matchingType && Arrays.equals(t.data, data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data) * 31 + usage * 961 + selector * 31 + matchingType;
    }

    /** As in a zone file: {@code 3 1 1 0a1b…}. */
    @Override
    public String toString() {
        return usage + " " + selector + " " + matchingType + " " + HexFormat.of().formatHex(data);
    }

    private static byte[] digest(String algorithm, byte[] bytes) {
        try {
            return MessageDigest.getInstance(algorithm).digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
    }
}
