package dev.relay.ingress.auth.sasl;

import dev.relay.common.net.StrictUtf8;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Extracts the bearer token from decoded SASL client responses: XOAUTH2 ({@code user=<u>^Aauth=Bearer <t>^A^A},
 * Google's format) and OAUTHBEARER (RFC 7628 §3.1: {@code <gs2-header>^A*(key=value^A)^A}). Strict: anything that
 * does not match the grammar yields {@code null}, never a guess. The user or authzid in the payload is ignored on
 * purpose: the identity comes from the verified token alone.
 */
public final class SaslBearerParser {

    private static final char KVSEP = '\u0001';
    /** RFC 7628 §3.1: key = 1*(ALPHA). */
    private static final Pattern KEY = Pattern.compile("[A-Za-z]+");
    /** RFC 7628 §3.1: value = *(VCHAR / SP / HTAB / CR / LF). */
    private static final Pattern VALUE = Pattern.compile("[\\x21-\\x7e \\t\\r\\n]*");
    /** RFC 6750 §2.1: "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 7235 §2.1). */
    private static final Pattern BEARER = Pattern.compile("(?i:bearer) +([A-Za-z0-9\\-._~+/]+=*)");
    /**
     * RFC 5801 §4 gs2-header without the non-standard flag; RFC 7628 has no channel binding, so "p=" is refused.
     * The authzid is a saslname: no "," and no control characters.
     */
    private static final Pattern GS2_HEADER = Pattern.compile("[ny],(a=[^,\\x00-\\x1f\\x7f]+)?,");
    /** Tokens are a few KB; anything much larger is not one. */
    private static final int MAX_PAYLOAD = 16 * 1024;

    private SaslBearerParser() {
    }

    /** XOAUTH2: {@code user=<u>^Aauth=Bearer <token>^A^A}; the token, or null when malformed. */
    public static String xoauth2Token(byte[] decoded) {
        String text = utf8(decoded);
        if (text == null) {
            return null;
        }
        Map<String, String> pairs = kvPairs(text);
        if (pairs == null || !pairs.containsKey("user")) {
            return null;
        }
        return bearer(pairs.get("auth"));
    }

    /** OAUTHBEARER (RFC 7628 §3.1): {@code n,a=<u>,^Aauth=Bearer <token>^A^A}; the token, or null when malformed. */
    public static String oauthbearerToken(byte[] decoded) {
        String text = utf8(decoded);
        if (text == null) {
            return null;
        }
        int headerEnd = text.indexOf(KVSEP);
        if (headerEnd < 0 || !GS2_HEADER.matcher(text.substring(0, headerEnd)).matches()) {
            return null;
        }
        Map<String, String> pairs = kvPairs(text.substring(headerEnd + 1));
        return pairs == null ? null : bearer(pairs.get("auth"));
    }

    /** {@code *(key "=" value kvsep) kvsep} with nothing after it; null when malformed or a key repeats. */
    private static Map<String, String> kvPairs(String text) {
        if (!text.endsWith(String.valueOf(KVSEP))) {
            return null;
        }
        Map<String, String> pairs = new HashMap<>();
        int at = 0;
        int last = text.length() - 1; // the final kvsep
        while (at < last) {
            int end = text.indexOf(KVSEP, at);
            String pair = text.substring(at, end);
            int eq = pair.indexOf('=');
            if (eq < 0) {
                return null;
            }
            String key = pair.substring(0, eq);
            String value = pair.substring(eq + 1);
            if (!KEY.matcher(key).matches() || !VALUE.matcher(value).matches() || pairs.put(key, value) != null) {
                return null;
            }
            at = end + 1;
        }
        return at == last ? pairs : null;
    }

    private static String bearer(String auth) {
        if (auth == null) {
            return null;
        }
        var matcher = BEARER.matcher(auth);
        return matcher.matches() ? matcher.group(1) : null;
    }

    private static String utf8(byte[] decoded) {
        if (decoded == null || decoded.length > MAX_PAYLOAD) {
            return null;
        }
        return StrictUtf8.decode(decoded);
    }
}
