package dev.relay.policy.dkim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Writes DKIM-Signature fields (RFC 6376 §3.5, §5): the canonical body hashed once per body canonicalisation,
 * the selected header fields (bottom-up, §5.4.2) and the signature field itself with an empty {@code b=} hashed
 * and signed, RSA with {@code SHA256withRSA} or Ed25519 over the SHA-256 of that data (RFC 8463 §3). The fields
 * are prepended to the message; no other byte of it changes. Pure: the time is given, keys come from
 * {@link DkimKeys}.
 */
public final class DkimSigner {

    /** Signed by default (RFC 6376 §5.4.1's recommendation, trimmed to what a receiver displays or threads by). */
    public static final List<String> DEFAULT_HEADERS = List.of("from", "to", "cc", "subject", "date", "message-id",
            "reply-to", "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding");
    /**
     * Listed once more than present ("over-signed"), so that a second instance added on the way breaks the
     * signature instead of being shown to the reader (RFC 6376 §8.15).
     */
    public static final Set<String> OVER_SIGNED = Set.of("from", "to", "subject", "date", "message-id");
    private static final int FOLD = 72;

    private DkimSigner() {
    }

    /**
     * What to sign with.
     *
     * @param key             the key; its domain is {@code d=}, its selector {@code s=}
     * @param canonicalization the {@code c=} tag
     * @param headers         lower-case names to sign (each instance present; the {@link #OVER_SIGNED} ones once
     *                        more)
     * @param expire          the {@code x=} tag as time after {@code t=}; null for none
     */
    public record Spec(SigningKey key, Canonicalization canonicalization, List<String> headers, Duration expire) {
    }

    /**
     * The message with one DKIM-Signature field per spec prepended (in the given order), signed at
     * {@code epochSeconds}.
     *
     * @throws GeneralSecurityException when a key cannot sign (the caller holds the message)
     */
    public static byte[] sign(byte[] message, List<Spec> specs, long epochSeconds) throws GeneralSecurityException {
        MessageParts parts = MessageParts.of(message);
        Map<Boolean, String> bodyHashes = new LinkedHashMap<>();
        ByteArrayOutputStream fields = new ByteArrayOutputStream(600 * specs.size());
        for (Spec spec : specs) {
            boolean relaxedBody = spec.canonicalization().relaxedBody();
            String bh = bodyHashes.computeIfAbsent(relaxedBody, relaxed -> Base64.getEncoder().encodeToString(
                    DkimCanonicalizer.bodyHash(message, parts.bodyStart(), relaxed)));
            fields.writeBytes(field(message, parts, spec, bh, epochSeconds));
        }
        byte[] out = new byte[fields.size() + message.length];
        byte[] prefix = fields.toByteArray();
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(message, 0, out, prefix.length, message.length);
        return out;
    }

    /** The h= list for this message: each name as often as present, the over-signed ones once more. */
    public static List<String> signedNames(MessageParts parts, List<String> names) {
        List<String> out = new ArrayList<>();
        for (String raw : names) {
            String name = raw.toLowerCase(Locale.ROOT);
            int times = parts.count(name) + (OVER_SIGNED.contains(name) ? 1 : 0);
            for (int i = 0; i < times; i++) {
                out.add(name);
            }
        }
        return out;
    }

    /** One complete DKIM-Signature field, folded, ending in CRLF. */
    static byte[] field(byte[] message, MessageParts parts, Spec spec, String bodyHash, long t)
            throws GeneralSecurityException {
        SigningKey key = spec.key();
        List<String> names = signedNames(parts, spec.headers().stream().distinct().toList());
        StringBuilder value = new StringBuilder("DKIM-Signature: v=1; a=").append(key.algorithm().tag())
                .append("; c=").append(spec.canonicalization().tag()).append(";\r\n\td=").append(key.domain())
                .append("; s=").append(key.selector()).append(";\r\n\tt=").append(t);
        if (spec.expire() != null) {
            value.append("; x=").append(t + Math.max(1, spec.expire().toSeconds()));
        }
        value.append(";\r\n\th=");
        int column = 3;
        for (int i = 0; i < names.size(); i++) {
            String piece = names.get(i) + (i < names.size() - 1 ? ":" : ";");
            if (column + piece.length() > FOLD) {
                value.append("\r\n\t");
                column = 1;
            }
            value.append(piece);
            column += piece.length();
        }
        value.append("\r\n\tbh=").append(bodyHash).append(";\r\n\tb=");
        byte[] unsigned = value.toString().getBytes(StandardCharsets.US_ASCII);

        ByteArrayOutputStream data = new ByteArrayOutputStream(2048);
        boolean relaxed = spec.canonicalization().relaxedHeaders();
        boolean[] used = new boolean[parts.fields().size()];
        for (String name : names) {
            for (int i = parts.fields().size() - 1; i >= 0; i--) {
                MessageParts.Field f = parts.fields().get(i);
                if (!used[i] && name.equals(f.name())) {
                    used[i] = true;
                    DkimCanonicalizer.header(message, f.start(), f.end(), relaxed, data);
                    break;
                }
            }
            // not found: an over-signed name, or fewer instances than listed; contributes nothing (§5.4.2)
        }
        ByteArrayOutputStream own = new ByteArrayOutputStream(unsigned.length);
        DkimCanonicalizer.header(unsigned, 0, unsigned.length, relaxed, own);
        byte[] ownBytes = own.toByteArray();
        data.write(ownBytes, 0, ownBytes.length - 2); // the signature field is hashed without its final CRLF

        String b = Base64.getEncoder().encodeToString(signature(key, data.toByteArray()));
        StringBuilder folded = new StringBuilder(value);
        int col = 3;
        for (int i = 0; i < b.length(); i++) {
            if (col == FOLD) {
                folded.append("\r\n\t ");
                col = 2;
            }
            folded.append(b.charAt(i));
            col++;
        }
        folded.append("\r\n");
        return folded.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] signature(SigningKey key, byte[] data) throws GeneralSecurityException {
        if (key.algorithm() == DkimAlgorithm.ED25519_SHA256) {
            Signature ed = Signature.getInstance("Ed25519");
            ed.initSign(key.key());
            ed.update(DkimCanonicalizer.sha256().digest(data));
            return ed.sign();
        }
        Signature rsa = Signature.getInstance("SHA256withRSA");
        rsa.initSign(key.key());
        rsa.update(data);
        return rsa.sign();
    }
}
