package dev.relay.policy.dkim;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** RFC 6376 §3.4 canonicalisation, with the examples of §3.4.5 and the edge cases a relay meets. */
class DkimCanonicalizerTest {

    /** RFC 6376 §3.4.5: the example message, in wire form. */
    private static final String EXAMPLE = "A: X\r\n"
            + "B : Y\t\r\n"
            + "\tZ  \r\n"
            + "\r\n"
            + " C \r\n"
            + "D \t E\r\n"
            + "\r\n"
            + "\r\n";

    @Test
    void shouldCanonicalizeTheRfc6376ExampleRelaxed() {
        byte[] m = bytes(EXAMPLE);
        MessageParts parts = MessageParts.of(m);
        assertThat(headers(m, parts, true)).isEqualTo("a:X\r\nb:Y Z\r\n");
        assertThat(bodyHash(m, parts, true)).isEqualTo(sha256(" C\r\nD E\r\n"));
    }

    @Test
    void shouldCanonicalizeTheRfc6376ExampleSimple() {
        byte[] m = bytes(EXAMPLE);
        MessageParts parts = MessageParts.of(m);
        assertThat(headers(m, parts, false)).isEqualTo("A: X\r\nB : Y\t\r\n\tZ  \r\n");
        assertThat(bodyHash(m, parts, false)).isEqualTo(sha256(" C \r\nD \t E\r\n"));
    }

    @Test
    void shouldHashAnEmptyBodyAsOneCrlfSimpleAndAsNothingRelaxed() {
        for (String message : new String[]{"From: a@example.test\r\n\r\n", "From: a@example.test\r\n",
                "From: a@example.test\r\n\r\n\r\n\r\n"}) {
            byte[] m = bytes(message);
            MessageParts parts = MessageParts.of(m);
            assertThat(bodyHash(m, parts, false)).as(message).isEqualTo(sha256("\r\n"));
            assertThat(bodyHash(m, parts, true)).as(message).isEqualTo(sha256(""));
        }
        // the well-known values (RFC 6376 §3.4.3 and §3.4.4)
        assertThat(bodyHash(bytes("S: x\r\n\r\n"), MessageParts.of(bytes("S: x\r\n\r\n")), false))
                .isEqualTo("frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
        assertThat(bodyHash(bytes("S: x\r\n\r\n"), MessageParts.of(bytes("S: x\r\n\r\n")), true))
                .isEqualTo("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    @Test
    void shouldAddTheMissingFinalCrlfOfABody() {
        byte[] m = bytes("S: x\r\n\r\nlast line without CRLF  ");
        MessageParts parts = MessageParts.of(m);
        assertThat(bodyHash(m, parts, false)).isEqualTo(sha256("last line without CRLF  \r\n"));
        assertThat(bodyHash(m, parts, true)).isEqualTo(sha256("last line without CRLF\r\n"));
    }

    @Test
    void shouldKeepEmptyLinesInsideTheBody() {
        byte[] m = bytes("S: x\r\n\r\n\r\na\r\n \r\n\r\nb\r\n\r\n");
        MessageParts parts = MessageParts.of(m);
        assertThat(bodyHash(m, parts, true)).isEqualTo(sha256("\r\na\r\n\r\n\r\nb\r\n"));
        assertThat(bodyHash(m, parts, false)).isEqualTo(sha256("\r\na\r\n \r\n\r\nb\r\n"));
    }

    @Test
    void shouldCanonicalizeEightBitHeaderBytesWithoutDecodingThem() {
        byte[] m = "Subject:  Gr\u00fc\u00dfe \u00e0  tous \r\n\r\n".getBytes(StandardCharsets.UTF_8);
        MessageParts parts = MessageParts.of(m);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DkimCanonicalizer.header(m, parts.fields().get(0).start(), parts.fields().get(0).end(), true, out);
        assertThat(out.toByteArray()).isEqualTo("subject:Gr\u00fc\u00dfe \u00e0 tous\r\n"
                .getBytes(StandardCharsets.UTF_8));
        // and a byte sequence that is no UTF-8 at all passes through as it is
        byte[] raw = {'X', ':', ' ', (byte) 0xff, (byte) 0xfe, ' ', ' ', 'a', '\r', '\n'};
        out.reset();
        DkimCanonicalizer.header(raw, 0, raw.length, true, out);
        assertThat(out.toByteArray()).isEqualTo(new byte[]{'x', ':', (byte) 0xff, (byte) 0xfe, ' ', 'a', '\r', '\n'});
    }

    @Test
    void shouldFindFieldsWithTheirFoldedLines() {
        byte[] m = bytes("Subject: one\r\n two\r\n\tthree\r\nTo: a@example.test\r\n\r\nbody\r\n");
        MessageParts parts = MessageParts.of(m);
        assertThat(parts.fields()).extracting(MessageParts.Field::name).containsExactly("subject", "to");
        assertThat(new String(m, 0, parts.fields().get(0).end(), StandardCharsets.US_ASCII))
                .isEqualTo("Subject: one\r\n two\r\n\tthree\r\n");
        assertThat(parts.bodyStart()).isEqualTo(m.length - "body\r\n".length());
    }

    private static String headers(byte[] m, MessageParts parts, boolean relaxed) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.fields().forEach(f -> DkimCanonicalizer.header(m, f.start(), f.end(), relaxed, out));
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static String bodyHash(byte[] m, MessageParts parts, boolean relaxed) {
        return Base64.getEncoder().encodeToString(DkimCanonicalizer.bodyHash(m, parts.bodyStart(), relaxed));
    }

    private static String sha256(String s) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes(s)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
