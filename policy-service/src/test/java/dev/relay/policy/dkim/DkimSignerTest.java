package dev.relay.policy.dkim;

import dev.relay.testkit.DkimKeyFiles;
import dev.relay.testkit.Dkimpy;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The signer against RFC 8463's example (Ed25519 key and signed message of Appendix A) and against a verifier we
 * did not write (Debian's dkimpy): RSA and Ed25519, dual signatures, both canonicalisations, folded and 8-bit
 * headers, 8-bit and empty bodies; and that a changed body or an added From fails, so the checks can fail.
 */
class DkimSignerTest {

    /** RFC 8463 Appendix A.1: the Ed25519 secret key (the RFC 8032 §7.1 test key) and its public key (A.2). */
    private static final String RFC8463_SEED = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
    private static final String RFC8463_PUBLIC = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    /** RFC 8463 Appendix A.3: the message as signed there (the unsigned message follows the signature fields). */
    private static final String RFC8463_BODY_AND_HEADERS = ""
            + "From: Joe SixPack <joe@football.example.com>\r\n"
            + "To: Suzie Q <suzie@shopping.example.net>\r\n"
            + "Subject: Is dinner ready?\r\n"
            + "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
            + "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
            + "\r\n"
            + "Hi.\r\n"
            + "\r\n"
            + "We lost the game.  Are you hungry yet?\r\n"
            + "\r\n"
            + "Joe.\r\n";
    private static final String RFC8463_SIGNED = ""
            + "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
            + " d=football.example.com; i=@football.example.com;\r\n"
            + " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
            + " subject : date : message-id : from : subject : date;\r\n"
            + " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
            + " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
            + " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
            + RFC8463_BODY_AND_HEADERS;

    private static final String MESSAGE = ""
            + "Received: from client by relay.localhost with ESMTPSA id X\r\n"
            + "From: Demo <demo@example.test>\r\n"
            + "To: someone@remote.example,\r\n"
            + "\tother@remote.example\r\n"
            + "Subject: a folded\r\n"
            + "   subject with  runs of   space\r\n"
            + "Date: Thu, 03 Dec 2026 15:00:00 +0000\r\n"
            + "Message-ID: <x1@example.test>\r\n"
            + "MIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n"
            + "\r\n"
            + "Gr\u00fc\u00dfe,  \t with trailing space  \r\n"
            + "\r\n"
            + "and empty lines at the end\r\n"
            + "\r\n"
            + "\r\n";

    @Test
    void shouldVerifyTheRfc8463ExampleSignatureWithOurCanonicalization() throws Exception {
        byte[] m = RFC8463_SIGNED.getBytes(StandardCharsets.US_ASCII);
        assertThat(verifyOwnWay(m, 0, ed25519Public(Base64.getDecoder().decode(RFC8463_PUBLIC)))).isTrue();
    }

    @Test
    void shouldSignLikeRfc8463WithItsKey() throws Exception {
        SigningKey key = new SigningKey("football.example.com", "brisbane", DkimAlgorithm.ED25519_SHA256,
                ed25519Private(Base64.getDecoder().decode(RFC8463_SEED)), 256);
        byte[] signed = DkimSigner.sign(RFC8463_BODY_AND_HEADERS.getBytes(StandardCharsets.US_ASCII),
                List.of(new DkimSigner.Spec(key, Canonicalization.RELAXED, DkimSigner.DEFAULT_HEADERS, null)),
                1528637909L);
        String text = new String(signed, StandardCharsets.US_ASCII);
        assertThat(text).contains("bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;", "a=ed25519-sha256;",
                "t=1528637909;").endsWith(RFC8463_BODY_AND_HEADERS);
        assertThat(verifyOwnWay(signed, 0, ed25519Public(Base64.getDecoder().decode(RFC8463_PUBLIC)))).isTrue();
        Dkimpy.Result dkimpy = Dkimpy.verify(signed, Map.of("brisbane._domainkey.football.example.com",
                "v=DKIM1; k=ed25519; p=" + RFC8463_PUBLIC));
        assertThat(dkimpy.verified()).as(dkimpy.output()).isTrue();
    }

    @Test
    void shouldProduceSignaturesDkimpyVerifiesForEveryAlgorithmAndCanonicalization() throws Exception {
        KeyPair rsa = DkimKeyFiles.rsa(2048);
        KeyPair ed = DkimKeyFiles.ed25519();
        Map<String, String> txt = Map.of("rsa1._domainkey.example.test", DkimKeyFiles.txt(rsa.getPublic()),
                "ed1._domainkey.example.test", DkimKeyFiles.txt(ed.getPublic()));
        byte[] message = MESSAGE.getBytes(StandardCharsets.UTF_8);
        for (String c : Canonicalization.NAMES) {
            byte[] signed = DkimSigner.sign(message, List.of(
                    spec(rsa.getPrivate(), "rsa1", DkimAlgorithm.RSA_SHA256, c, null),
                    spec(ed.getPrivate(), "ed1", DkimAlgorithm.ED25519_SHA256, c, Duration.ofDays(7))),
                    System.currentTimeMillis() / 1000);
            Dkimpy.Result result = Dkimpy.verify(signed, txt);
            assertThat(result.verified()).as(c + "\n" + result.output()).isTrue();
            assertThat(result.passed()).as(c).containsExactly("example.test/rsa1/rsa-sha256",
                    "example.test/ed1/ed25519-sha256");
            // prepended, nothing else changed
            assertThat(Arrays.copyOfRange(signed, signed.length - message.length, signed.length)).isEqualTo(message);

            byte[] tampered = signed.clone();
            tampered[tampered.length - 40] ^= 0x01; // one bit of the body
            Dkimpy.Result broken = Dkimpy.verify(tampered, txt);
            assertThat(broken.verified()).as(c + " tampered\n" + broken.output()).isFalse();
            assertThat(broken.passed()).as(c).isEmpty();
        }
    }

    @Test
    void shouldOverSignSoThatAnAddedFromBreaksTheSignature() throws Exception {
        KeyPair rsa = DkimKeyFiles.rsa(2048);
        byte[] signed = DkimSigner.sign(MESSAGE.getBytes(StandardCharsets.UTF_8),
                List.of(spec(rsa.getPrivate(), "rsa1", DkimAlgorithm.RSA_SHA256, "relaxed/relaxed", null)), 1_700_000_000L);
        String text = new String(signed, StandardCharsets.UTF_8);
        Matcher h = Pattern.compile("h=([^;]*);").matcher(text);
        assertThat(h.find()).isTrue();
        assertThat(h.group(1).replaceAll("\\s", "")).isEqualTo("from:from:to:to:subject:subject:date:date:"
                + "message-id:message-id:mime-version:content-type:content-transfer-encoding");
        Map<String, String> txt = Map.of("rsa1._domainkey.example.test", DkimKeyFiles.txt(rsa.getPublic()));
        assertThat(Dkimpy.verify(signed, txt).verified()).isTrue();

        // a second From added below the signature (where a verifier would pick it) must fail
        String forged = text.replace("Received:", "From: ceo@example.test\r\nReceived:");
        Dkimpy.Result result = Dkimpy.verify(forged.getBytes(StandardCharsets.UTF_8), txt);
        assertThat(result.verified()).as(result.output()).isFalse();
    }

    @Test
    void shouldSignEmptyBodiesAndHeaderOnlyMessages() throws Exception {
        KeyPair ed = DkimKeyFiles.ed25519();
        Map<String, String> txt = Map.of("ed1._domainkey.example.test", DkimKeyFiles.txt(ed.getPublic()));
        for (String message : List.of("From: demo@example.test\r\nSubject: empty\r\n\r\n",
                "From: demo@example.test\r\nSubject: no empty line at all\r\n")) {
            for (String c : List.of("simple/simple", "relaxed/relaxed")) {
                byte[] signed = DkimSigner.sign(message.getBytes(StandardCharsets.US_ASCII),
                        List.of(spec(ed.getPrivate(), "ed1", DkimAlgorithm.ED25519_SHA256, c, null)), 1_700_000_000L);
                Dkimpy.Result result = Dkimpy.verify(signed, txt);
                assertThat(result.verified()).as(c + " " + message + result.output()).isTrue();
            }
        }
    }

    @Test
    void shouldSignEightBitHeadersAsTheyAre() throws Exception {
        KeyPair rsa = DkimKeyFiles.rsa(2048);
        byte[] message = ("From: =?utf-8?q?D=C3=A9mo?= <demo@example.test>\r\nSubject: caf\u00e9 \u00fcber alles\r\n"
                + "To: \u00e9l\u00e8ve@example.test\r\n\r\nbody \u00e9\r\n").getBytes(StandardCharsets.UTF_8);
        Map<String, String> txt = Map.of("rsa1._domainkey.example.test", DkimKeyFiles.txt(rsa.getPublic()));
        for (String c : List.of("simple/simple", "relaxed/relaxed")) {
            byte[] signed = DkimSigner.sign(message,
                    List.of(spec(rsa.getPrivate(), "rsa1", DkimAlgorithm.RSA_SHA256, c, null)), 1_700_000_000L);
            Dkimpy.Result result = Dkimpy.verify(signed, txt);
            assertThat(result.verified()).as(c + result.output()).isTrue();
        }
    }

    @Test
    void shouldHashALargeBodyWhereItLies() throws Exception {
        KeyPair ed = DkimKeyFiles.ed25519();
        StringBuilder body = new StringBuilder();
        while (body.length() < 2_000_000) {
            body.append("line ").append(body.length()).append("   with  space \t\r\n");
        }
        byte[] message = ("From: demo@example.test\r\nSubject: big\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
        byte[] signed = DkimSigner.sign(message,
                List.of(spec(ed.getPrivate(), "ed1", DkimAlgorithm.ED25519_SHA256, "relaxed/relaxed", null)),
                1_700_000_000L);
        Dkimpy.Result result = Dkimpy.verify(signed, Map.of("ed1._domainkey.example.test",
                DkimKeyFiles.txt(ed.getPublic())));
        assertThat(result.verified()).as(result.output()).isTrue();
    }

    @Test
    void shouldWriteExpiryAndFoldLongTags() throws Exception {
        KeyPair rsa = DkimKeyFiles.rsa(2048);
        byte[] signed = DkimSigner.sign(MESSAGE.getBytes(StandardCharsets.UTF_8),
                List.of(spec(rsa.getPrivate(), "rsa1", DkimAlgorithm.RSA_SHA256, "relaxed/relaxed",
                        Duration.ofDays(7))), 1_700_000_000L);
        String field = new String(signed, StandardCharsets.UTF_8).split("\r\n(?=[A-Za-z])", 2)[0];
        assertThat(field).startsWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n\td=example.test;"
                + " s=rsa1;\r\n\tt=1700000000; x=1700604800;\r\n\th=from:from:to:to:subject:subject:date:date:");
        assertThat(field.split("\r\n")).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(78));
    }

    // ---------------------------------------------------------------------------------------------------------

    static DkimSigner.Spec spec(PrivateKey key, String selector, DkimAlgorithm algorithm, String c, Duration expire) {
        return new DkimSigner.Spec(new SigningKey("example.test", selector, algorithm, key, 0),
                Canonicalization.parse(c), DkimSigner.DEFAULT_HEADERS, expire);
    }

    static PrivateKey ed25519Private(byte[] seed) throws Exception {
        byte[] prefix = HexFormat.of().parseHex("302e020100300506032b657004220420");
        byte[] der = Arrays.copyOf(prefix, prefix.length + 32);
        System.arraycopy(seed, 0, der, prefix.length, 32);
        return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
    }

    static PublicKey ed25519Public(byte[] raw) throws Exception {
        byte[] prefix = HexFormat.of().parseHex("302a300506032b6570032100");
        byte[] der = Arrays.copyOf(prefix, prefix.length + 32);
        System.arraycopy(raw, 0, der, prefix.length, 32);
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    }

    /**
     * Verifies the {@code index}-th DKIM-Signature (Ed25519 only) the RFC 8463 way, written here independently of
     * the signer: tags read from the field, headers picked bottom-up, the field hashed with its b= value removed.
     */
    static boolean verifyOwnWay(byte[] m, int index, PublicKey key) throws Exception {
        MessageParts parts = MessageParts.of(m);
        List<MessageParts.Field> signatures = parts.fields().stream()
                .filter(f -> "dkim-signature".equals(f.name())).toList();
        MessageParts.Field sig = signatures.get(index);
        String raw = new String(m, sig.start(), sig.end() - sig.start(), StandardCharsets.ISO_8859_1);
        Map<String, String> tags = new LinkedHashMap<>();
        for (String tag : raw.substring(raw.indexOf(':') + 1).split(";")) {
            int eq = tag.indexOf('=');
            if (eq > 0) {
                tags.put(tag.substring(0, eq).trim(), tag.substring(eq + 1).replaceAll("[\\s]", ""));
            }
        }
        boolean relaxedHeaders = tags.get("c").startsWith("relaxed");
        boolean relaxedBody = tags.get("c").endsWith("/relaxed");
        String bh = Base64.getEncoder().encodeToString(DkimCanonicalizer.bodyHash(m, parts.bodyStart(), relaxedBody));
        if (!bh.equals(tags.get("bh"))) {
            return false;
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        boolean[] used = new boolean[parts.fields().size()];
        for (String name : tags.get("h").toLowerCase().split(":")) {
            for (int i = parts.fields().size() - 1; i >= 0; i--) {
                if (!used[i] && name.equals(parts.fields().get(i).name())) {
                    used[i] = true;
                    DkimCanonicalizer.header(m, parts.fields().get(i).start(), parts.fields().get(i).end(),
                            relaxedHeaders, data);
                    break;
                }
            }
        }
        String withoutB = raw.replaceFirst("([;\\s]b\\s*=)[\\sA-Za-z0-9+/=]*", "$1");
        byte[] own = withoutB.getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream canon = new ByteArrayOutputStream();
        DkimCanonicalizer.header(own, 0, own.length, relaxedHeaders, canon);
        byte[] c = canon.toByteArray();
        data.write(c, 0, c.length - 2);
        Signature ed = Signature.getInstance("Ed25519");
        ed.initVerify(key);
        ed.update(DkimCanonicalizer.sha256().digest(data.toByteArray()));
        return ed.verify(Base64.getDecoder().decode(tags.get("b")));
    }
}
