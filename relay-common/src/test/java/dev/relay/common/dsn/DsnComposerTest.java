package dev.relay.common.dsn;

import dev.relay.common.envelope.Dsn;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Identity;
import dev.relay.common.envelope.Route;
import jakarta.mail.BodyPart;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class DsnComposerTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-03-04T05:06:07Z"), ZoneOffset.UTC);
    private static final DsnComposer COMPOSER = new DsnComposer("relay.example.test", "example.test", 4096, CLOCK);

    /** 8-bit content, a line that looks like a boundary, no trailing CRLF games: must come back byte for byte. */
    private static final byte[] ORIGINAL = ("Received: from client ([192.0.2.1]) by relay\r\n"
            + "From: Alice <alice@example.test>\r\nTo: bob@remote.example\r\nSubject: Gr\u00fc\u00dfe\r\n"
            + "Message-ID: <orig@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n\r\n"
            + "K\u00f6ln \u20ac\r\n--=_not-our-boundary\r\n.\r\n\r\nlast\r\n").getBytes(StandardCharsets.UTF_8);

    @Test
    void shouldComposeAParseableReportWithTheOriginalUnchangedForRetFull() throws Exception {
        Dsn dsn = new Dsn("FULL", "env id+1", Map.of("bob@remote.example",
                new Dsn.Recipient(List.of("FAILURE"), "rfc822;Bob@Remote.example")));
        Envelope original = envelope("alice@example.test", List.of("bob@remote.example", "carol@remote.example"),
                dsn, Route.mx("remote.example"));

        DsnMessage out = COMPOSER.compose(original, ORIGINAL, List.of(
                RecipientStatus.failed("bob@remote.example", "mx.remote.example", "550 5.1.1 <bob@remote.example>: no such user"),
                RecipientStatus.failed("carol@remote.example", "mx.remote.example", "554 transaction failed"))).orElseThrow();

        // the envelope: null sender, to the original sender, a derived id
        assertThat(out.envelope().mailFrom()).isEmpty();
        assertThat(out.envelope().nullSender()).isTrue();
        assertThat(out.envelope().recipients()).containsExactly("alice@example.test");
        assertThat(out.envelope().messageId()).startsWith("M1-dsn");
        assertThat(out.envelope().size()).isEqualTo(out.bytes().length);
        assertThat(out.envelope().body()).isEqualTo("8BITMIME");
        assertThat(out.recipients()).containsExactly("bob@remote.example", "carol@remote.example");
        assertCrlfOnly(out.bytes());

        MimeMessage message = parse(out.bytes());
        assertThat(message.getContentType()).startsWith("multipart/report").contains("report-type=delivery-status");
        assertThat(message.getHeader("From", null)).contains("MAILER-DAEMON@example.test");
        assertThat(message.getHeader("To", null)).isEqualTo("<alice@example.test>");
        assertThat(message.getSubject()).isEqualTo("Undelivered Mail Returned to Sender");
        assertThat(message.getHeader("Auto-Submitted", null)).isEqualTo("auto-replied");
        assertThat(message.getHeader("Message-ID", null)).startsWith("<M1-dsn").endsWith("@example.test>");
        assertThat(message.getHeader("Date", null)).isEqualTo("Tue, 4 Mar 2025 05:06:07 +0000");

        MimeMultipart parts = parts(message);
        assertThat(parts.getCount()).isEqualTo(3);
        assertThat(parts.getBodyPart(0).getContentType()).startsWith("text/plain");
        assertThat((String) parts.getBodyPart(0).getContent()).contains("bob@remote.example")
                .contains("550 5.1.1");
        assertThat(parts.getBodyPart(1).getContentType()).isEqualTo("message/delivery-status");
        List<InternetHeaders> fields = statusFields(parts.getBodyPart(1));
        assertThat(fields).hasSize(3);
        InternetHeaders perMessage = fields.get(0);
        assertThat(perMessage.getHeader("Reporting-MTA", null)).isEqualTo("dns; relay.example.test");
        assertThat(perMessage.getHeader("Original-Envelope-Id", null)).isEqualTo("env+20id+2B1");
        assertThat(perMessage.getHeader("Arrival-Date", null)).isNotNull();
        InternetHeaders bob = fields.get(1);
        assertThat(bob.getHeader("Original-Recipient", null)).isEqualTo("rfc822; Bob@Remote.example");
        assertThat(bob.getHeader("Final-Recipient", null)).isEqualTo("rfc822; bob@remote.example");
        assertThat(bob.getHeader("Action", null)).isEqualTo("failed");
        assertThat(bob.getHeader("Status", null)).isEqualTo("5.1.1");
        assertThat(bob.getHeader("Remote-MTA", null)).isEqualTo("dns; mx.remote.example");
        assertThat(bob.getHeader("Diagnostic-Code", null))
                .isEqualTo("smtp; 550 5.1.1 <bob@remote.example>: no such user");
        InternetHeaders carol = fields.get(2);
        assertThat(carol.getHeader("Original-Recipient", null)).isNull();
        assertThat(carol.getHeader("Status", null)).isEqualTo("5.0.0");

        BodyPart returned = parts.getBodyPart(2);
        assertThat(returned.getContentType()).isEqualTo("message/rfc822");
        assertThat(((MimeBodyPart) returned).getRawInputStream().readAllBytes()).isEqualTo(ORIGINAL);
    }

    @Test
    void shouldReturnOnlyTheHeadersForRetHdrsByDefaultAndForLargeOriginals() throws Exception {
        String headers = new String(OriginalMessage.headerSection(ORIGINAL), StandardCharsets.UTF_8);
        assertThat(headers).endsWith("Content-Transfer-Encoding: 8bit\r\n").doesNotContain("K\u00f6ln");
        for (Dsn dsn : new Dsn[]{null, new Dsn("HDRS", null, null)}) {
            MimeMultipart parts = parts(parse(COMPOSER.compose(envelope("alice@example.test",
                    List.of("bob@remote.example"), dsn, null), ORIGINAL, List.of(failedBob())).orElseThrow().bytes()));
            assertThat(parts.getBodyPart(2).getContentType()).isEqualTo("text/rfc822-headers");
            byte[] raw = ((MimeBodyPart) parts.getBodyPart(2)).getRawInputStream().readAllBytes();
            assertThat(new String(raw, StandardCharsets.UTF_8)).isEqualTo(headers);
        }
        byte[] large = (new String(ORIGINAL, StandardCharsets.UTF_8) + "x".repeat(70) + "\r\n").repeat(100)
                .getBytes(StandardCharsets.UTF_8);
        MimeMultipart parts = parts(parse(COMPOSER.compose(envelope("alice@example.test",
                List.of("bob@remote.example"), new Dsn("FULL", null, null), null), large, List.of(failedBob()))
                .orElseThrow().bytes()));
        assertThat(parts.getBodyPart(2).getContentType()).isEqualTo("text/rfc822-headers");
    }

    @Test
    void shouldNeverAnswerTheNullSender() {
        assertThat(COMPOSER.compose(envelope("", List.of("bob@remote.example"), null, null), ORIGINAL,
                List.of(failedBob()))).isEmpty();
    }

    @Test
    void shouldHonourNotify() {
        Dsn never = new Dsn(null, null, Map.of("bob@remote.example", new Dsn.Recipient(List.of("NEVER"), null)));
        assertThat(COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example"), never, null),
                ORIGINAL, List.of(failedBob()))).isEmpty();

        Dsn delayOnly = new Dsn(null, null, Map.of("bob@remote.example",
                new Dsn.Recipient(List.of("DELAY", "SUCCESS"), null)));
        assertThat(COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example"), delayOnly, null),
                ORIGINAL, List.of(failedBob()))).isEmpty();
        RecipientStatus delayed = new RecipientStatus("bob@remote.example", RecipientStatus.Action.DELAYED, "4.4.1",
                null, "smtp", "451 4.4.1 no answer");
        DsnMessage notice = COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example"),
                delayOnly, null), ORIGINAL, List.of(delayed)).orElseThrow();
        assertThat(new String(notice.bytes(), StandardCharsets.UTF_8)).contains("Action: delayed")
                .contains("Subject: Delayed Mail");

        // only the recipients that asked for it
        Dsn mixed = new Dsn(null, null, Map.of("bob@remote.example", new Dsn.Recipient(List.of("NEVER"), null),
                "carol@remote.example", new Dsn.Recipient(List.of("SUCCESS", "FAILURE"), null)));
        DsnMessage some = COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example",
                "carol@remote.example", "dave@remote.example"), mixed, null), ORIGINAL, List.of(failedBob(),
                RecipientStatus.failed("carol@remote.example", null, "550 nope"),
                RecipientStatus.failed("dave@remote.example", null, "550 nope"))).orElseThrow();
        assertThat(some.recipients()).containsExactly("carol@remote.example", "dave@remote.example");
        assertThat(new String(some.bytes(), StandardCharsets.UTF_8)).doesNotContain("Final-Recipient: rfc822; bob@");
    }

    @Test
    void shouldDeriveStatusFromTheReplyAndKeepLongDiagnosticsFolded() throws Exception {
        assertThat(DsnStatus.fromReply("550 5.7.26 unauthenticated", '5')).isEqualTo("5.7.26");
        assertThat(DsnStatus.fromReply("550-5.2.2 mailbox full", '5')).isEqualTo("5.2.2");
        assertThat(DsnStatus.fromReply("550 4.2.2 odd", '5')).isEqualTo("5.0.0");
        assertThat(DsnStatus.fromReply("550 user unknown", '5')).isEqualTo("5.0.0");
        assertThat(DsnStatus.fromReply(null, '5')).isEqualTo("5.0.0");

        String longReply = "550 5.7.1 " + "this is a very long explanation from the remote server ".repeat(10);
        DsnMessage out = COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example"), null,
                null), ORIGINAL, List.of(RecipientStatus.failed("bob@remote.example", "mx\r\nBcc: x", longReply)))
                .orElseThrow();
        for (String line : new String(out.bytes(), StandardCharsets.UTF_8).split("\r\n")) {
            assertThat(line.length()).isLessThanOrEqualTo(998);
        }
        InternetHeaders bob = statusFields(parts(parse(out.bytes())).getBodyPart(1)).get(1);
        assertThat(bob.getHeader("Diagnostic-Code", null).replaceAll("\r\n", "")).isEqualTo("smtp; " + longReply.strip());
        assertThat(bob.getHeader("Remote-MTA", null)).isEqualTo("dns; mx  Bcc: x");
    }

    @Test
    void shouldGiveDistinctIdsPerHopButTheSameIdForTheSameHop() {
        Envelope a = envelope("alice@example.test", List.of("b@one.example"), null, Route.mx("one.example"));
        Envelope b = envelope("alice@example.test", List.of("b@two.example"), null, Route.mx("two.example"));
        assertThat(DsnComposer.dsnId(a)).isEqualTo(DsnComposer.dsnId(a)).isNotEqualTo(DsnComposer.dsnId(b));
        assertThat(DsnComposer.dsnId(envelope("alice@example.test", List.of(), null, null))).isEqualTo("M1-dsn");
    }

    @Test
    void shouldReportAnExpiredRecipientAsFailedWithTheLastTransientReply() throws Exception {
        Envelope original = envelope("alice@example.test", List.of("bob@remote.example"), null,
                Route.mx("remote.example"));
        DsnMessage out = COMPOSER.compose(original, ORIGINAL, List.of(RecipientStatus.expired("bob@remote.example",
                "mx.remote.example", "451 4.2.2 mailbox over quota"))).orElseThrow();

        InternetHeaders bob = statusFields(parts(parse(out.bytes())).getBodyPart(1)).get(1);
        assertThat(bob.getHeader("Action", null)).isEqualTo("failed");
        assertThat(bob.getHeader("Status", null)).isEqualTo("4.2.2");
        assertThat(bob.getHeader("Diagnostic-Code", null)).isEqualTo("smtp; 451 4.2.2 mailbox over quota");
        assertThat(RecipientStatus.expired("b@x.example", null, "421 try later").status()).isEqualTo("4.4.7");
        assertThat(RecipientStatus.expired("b@x.example", null, null).status()).isEqualTo("4.4.7");
    }

    @Test
    void shouldTellWhenADelayedRecipientWillBeGivenUpOn() throws Exception {
        Envelope original = envelope("alice@example.test", List.of("bob@remote.example"), null,
                Route.mx("remote.example"));
        DsnMessage out = COMPOSER.compose(original, ORIGINAL, List.of(RecipientStatus.delayed("bob@remote.example",
                null, "421 4.4.2 timeout")), Instant.parse("2025-03-09T05:06:07Z")).orElseThrow();

        InternetHeaders bob = statusFields(parts(parse(out.bytes())).getBodyPart(1)).get(1);
        assertThat(bob.getHeader("Action", null)).isEqualTo("delayed");
        assertThat(bob.getHeader("Status", null)).isEqualTo("4.4.2");
        assertThat(bob.getHeader("Will-Retry-Until", null)).isEqualTo("Sun, 9 Mar 2025 05:06:07 +0000");
    }

    @Test
    void shouldGiveEachRetryAttemptItsOwnDsnId() {
        Envelope first = envelope("alice@example.test", List.of("b@one.example"), null, Route.mx("one.example"));
        Envelope third = first.nextAttempt(List.of("b@one.example"), null).nextAttempt(List.of("b@one.example"),
                null);
        assertThat(DsnComposer.dsnId(third)).isEqualTo(DsnComposer.dsnId(first) + "-a2");
    }

    @Test
    void shouldComposeARelayedSuccessReportThatAParserReadsFieldByField() throws Exception {
        Dsn dsn = new Dsn(null, "env-7", Map.of("bob@remote.example",
                new Dsn.Recipient(List.of("SUCCESS", "FAILURE"), "rfc822;Bob@Remote.example")));
        Envelope original = envelope("alice@example.test", List.of("bob@remote.example"), dsn,
                Route.mx("remote.example"));
        RecipientStatus relayed = new RecipientStatus("bob@remote.example", RecipientStatus.Action.RELAYED,
                "2.0.0", "mx.remote.example", "smtp", "250 2.0.0 Ok: queued as 42");

        MimeMessage message = parse(COMPOSER.compose(original, ORIGINAL, List.of(relayed)).orElseThrow().bytes());

        assertThat(message.getSubject()).isEqualTo("Successful Mail Delivery Report");
        assertThat(message.getHeader("To", null)).isEqualTo("<alice@example.test>");
        MimeMultipart parts = parts(message);
        assertThat((String) parts.getBodyPart(0).getContent()).contains("relayed");
        List<InternetHeaders> fields = statusFields(parts.getBodyPart(1));
        assertThat(fields.get(0).getHeader("Original-Envelope-Id", null)).isEqualTo("env-7");
        InternetHeaders bob = fields.get(1);
        assertThat(bob.getHeader("Action", null)).isEqualTo("relayed");
        assertThat(bob.getHeader("Status", null)).isEqualTo("2.0.0");
        assertThat(bob.getHeader("Original-Recipient", null)).isEqualTo("rfc822; Bob@Remote.example");
        assertThat(bob.getHeader("Final-Recipient", null)).isEqualTo("rfc822; bob@remote.example");
        assertThat(bob.getHeader("Remote-MTA", null)).isEqualTo("dns; mx.remote.example");
        assertThat(bob.getHeader("Diagnostic-Code", null)).isEqualTo("smtp; 250 2.0.0 Ok: queued as 42");
        // RET absent: headers only (HDRS is the default)
        assertThat(parts.getBodyPart(2).getContentType()).isEqualTo("text/rfc822-headers");
        assertThat(parts.getBodyPart(2).getDescription()).isEqualTo("Delivered Message Headers");
    }

    @Test
    void shouldReportSuccessOnlyWhenNotifyNamesIt() {
        RecipientStatus delivered = new RecipientStatus("bob@remote.example", RecipientStatus.Action.DELIVERED,
                "2.0.0", "mailbox.example.test", "smtp", "250 2.0.0 Ok");
        // no NOTIFY means FAILURE,DELAY (RFC 3461 §4.1): never a success
        assertThat(COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example"), null, null),
                ORIGINAL, List.of(delivered))).isEmpty();
        Dsn failureOnly = new Dsn(null, null, Map.of("bob@remote.example",
                new Dsn.Recipient(List.of("FAILURE"), null)));
        assertThat(COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example"), failureOnly,
                null), ORIGINAL, List.of(delivered))).isEmpty();
        Dsn never = new Dsn(null, null, Map.of("bob@remote.example", new Dsn.Recipient(List.of("NEVER"), null)));
        assertThat(COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example"), never, null),
                ORIGINAL, List.of(delivered))).isEmpty();
        Dsn success = new Dsn(null, null, Map.of("bob@remote.example", new Dsn.Recipient(List.of("success"), null)));
        assertThat(COMPOSER.compose(envelope("alice@example.test", List.of("bob@remote.example"), success, null),
                ORIGINAL, List.of(delivered))).isPresent();
        assertThat(COMPOSER.compose(envelope("", List.of("bob@remote.example"), success, null),
                ORIGINAL, List.of(delivered))).isEmpty();
        assertThat(DsnComposer.notifies(envelope("a@example.test", List.of("Bob@Remote.example"), success, null),
                "BOB@remote.example", "SUCCESS")).isTrue();
    }

    @Test
    void shouldRefuseASuccessStatusOfTheWrongClass() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RecipientStatus("b@x.example",
                RecipientStatus.Action.DELIVERED, "5.1.1", null, null, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static RecipientStatus failedBob() {
        return RecipientStatus.failed("bob@remote.example", "mx.remote.example", "550 5.1.1 no such user");
    }

    private static Envelope envelope(String from, List<String> rcpts, Dsn dsn, Route route) {
        return new Envelope(Envelope.VERSION, "M1", 1_700_000_000_000L, "192.0.2.1", "client", "submission", true,
                new Identity("alice", "s", null, List.of(), List.of(), List.of()), from, rcpts, false, "8BITMIME",
                ORIGINAL.length, route, 0, dsn);
    }

    private static MimeMessage parse(byte[] bytes) throws Exception {
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(bytes));
    }

    private static MimeMultipart parts(MimeMessage message) throws Exception {
        return new MimeMultipart(new ByteArrayDataSource(message.getRawInputStream(), message.getContentType()));
    }

    /** The per-message block, then one block per recipient. */
    static List<InternetHeaders> statusFields(BodyPart part) throws Exception {
        List<InternetHeaders> blocks = new ArrayList<>();
        try (InputStream in = ((MimeBodyPart) part).getRawInputStream()) {
            byte[] all = in.readAllBytes();
            ByteArrayInputStream stream = new ByteArrayInputStream(all);
            while (stream.available() > 0) {
                InternetHeaders h = new InternetHeaders(stream);
                if (h.getAllHeaderLines().hasMoreElements()) {
                    blocks.add(h);
                }
            }
        }
        return blocks;
    }

    private static void assertCrlfOnly(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                assertThat(i).isGreaterThan(0);
                assertThat(bytes[i - 1]).isEqualTo((byte) '\r');
            }
            if (bytes[i] == '\r') {
                assertThat(bytes[i + 1]).isEqualTo((byte) '\n');
            }
        }
    }
}
