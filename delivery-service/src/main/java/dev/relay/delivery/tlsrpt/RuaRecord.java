package dev.relay.delivery.tlsrpt;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The TLS-RPT record of a policy domain, {@code _smtp._tls.<domain>} TXT (RFC 8460 §3): {@code v=TLSRPTv1;
 * rua=<uri>[,<uri>...]}. TXT strings not starting with {@code v=TLSRPTv1} are discarded; when not exactly one is
 * left the domain does not take reports. Only {@code mailto:} and {@code https:} URIs are kept; a record whose
 * rua names none of them is no record. Bounded: at most {@value #MAX_URIS} URIs, each at most
 * {@value #MAX_URI_LENGTH} characters, a record of at most {@value #MAX_RECORD} characters. Pure.
 */
public final class RuaRecord {

    static final int MAX_URIS = 5;
    static final int MAX_URI_LENGTH = 512;
    static final int MAX_RECORD = 2048;

    private RuaRecord() {
    }

    /** The report URIs of the domain's TXT strings, or empty when it takes none. */
    public static Optional<List<URI>> parse(List<String> txt) {
        List<String> candidates = txt.stream().filter(t -> t.startsWith("v=TLSRPTv1")).toList();
        if (candidates.size() != 1 || candidates.get(0).length() > MAX_RECORD) {
            return Optional.empty();
        }
        String[] fields = candidates.get(0).split(";");
        if (!fields[0].strip().equals("v=TLSRPTv1")) {
            return Optional.empty(); // e.g. v=TLSRPTv10
        }
        String rua = null;
        for (int i = 1; i < fields.length; i++) {
            String field = fields[i].strip();
            int eq = field.indexOf('=');
            if (eq > 0 && field.substring(0, eq).strip().toLowerCase(Locale.ROOT).equals("rua")) {
                if (rua != null) {
                    return Optional.empty(); // rua twice
                }
                rua = field.substring(eq + 1).strip();
            }
        }
        if (rua == null || rua.isEmpty()) {
            return Optional.empty();
        }
        List<URI> uris = new ArrayList<>();
        for (String part : rua.split(",")) {
            Optional<URI> uri = uri(part.strip());
            if (uri.isPresent() && uris.size() < MAX_URIS && !uris.contains(uri.get())) {
                uris.add(uri.get());
            }
        }
        return uris.isEmpty() ? Optional.empty() : Optional.of(List.copyOf(uris));
    }

    /** A {@code mailto:} with one address or an {@code https:} URI with a host; anything else is ignored. */
    static Optional<URI> uri(String text) {
        if (text.isEmpty() || text.length() > MAX_URI_LENGTH) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (scheme.equals("https") && uri.getHost() != null) {
                return Optional.of(uri);
            }
            if (scheme.equals("mailto")) {
                String address = uri.getSchemeSpecificPart();
                int at = address == null ? -1 : address.indexOf('@');
                if (at > 0 && at < address.length() - 1 && address.indexOf('?') < 0 && address.indexOf(',') < 0) {
                    return Optional.of(uri);
                }
            }
            return Optional.empty();
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }
}
