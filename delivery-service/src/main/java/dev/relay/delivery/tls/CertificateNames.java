package dev.relay.delivery.tls;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * The DNS names a server certificate is for, and whether one of them is a name we expect. As RFC 6125 and Postfix:
 * the subjectAltName DNS names, or the subject's common name only when there are none; a presented {@code *.x} stands
 * for exactly one label in front of {@code x}. An expected name starting with a dot ({@code .example.org}, Postfix's
 * {@code match=} syntax) accepts every name under that domain but not the domain itself.
 */
public final class CertificateNames {

    private static final int SAN_DNS = 2;

    private CertificateNames() {
    }

    /** The DNS names of {@code certificate}, lower-case, without trailing dot. */
    public static List<String> of(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(SAN_DNS).equals(san.get(0)) && san.get(1) instanceof String s) {
                        names.add(normalize(s));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return List.of();
        }
        if (!names.isEmpty()) {
            return names;
        }
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN") && rdn.getValue() instanceof String cn) {
                    names.add(normalize(cn));
                }
            }
        } catch (InvalidNameException e) {
            return List.of();
        }
        return names;
    }

    /** Whether a name of {@code certificate} matches one of {@code expected}. */
    public static boolean matchesAny(X509Certificate certificate, List<String> expected) {
        List<String> presented = of(certificate);
        for (String want : expected) {
            for (String name : presented) {
                if (matches(name, normalize(want))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** One presented name against one expected name. */
    static boolean matches(String presented, String expected) {
        if (expected.isEmpty() || presented.isEmpty()) {
            return false;
        }
        if (expected.startsWith(".")) {
            String base = presented.startsWith("*.") ? presented.substring(1) : "." + presented;
            // *.a.example.org stands for x.a.example.org, which is under .example.org; *.example.org too
            return base.endsWith(expected) && (base.length() > expected.length() || presented.startsWith("*."));
        }
        if (presented.startsWith("*.")) {
            int dot = expected.indexOf('.');
            return dot > 0 && expected.substring(dot).equals(presented.substring(1));
        }
        return presented.equals(expected);
    }

    private static String normalize(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
