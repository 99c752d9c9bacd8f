package dev.relay.common.dsn;

import dev.relay.common.envelope.Dsn;
import dev.relay.common.envelope.Envelope;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Builds an RFC 3464 delivery status notification for one original message. Pure: no I/O, no framework; the
 * clock and the reporting MTA's name are given.
 *
 * <p>The result is a {@code multipart/report; report-type=delivery-status} (RFC 6522) with three parts: a short
 * human-readable {@code text/plain} explanation, the machine-readable {@code message/delivery-status} (or
 * {@code message/global-delivery-status}, RFC 6533, when an address is not ASCII), and the original — as
 * {@code message/rfc822} with its bytes unchanged when the sender asked for {@code RET=FULL} and it is at most
 * {@link #maxFullOriginal} bytes, otherwise only its header section as {@code text/rfc822-headers}.
 *
 * <p>Rules (guarantee 5 in docs/architecture.md, RFC 3461 §4, RFC 3834): nothing for a null-sender original (a DSN is never
 * answered by a DSN); a recipient with {@code NOTIFY=NEVER} is never reported; with a NOTIFY list, only the
 * conditions it names ({@code FAILURE} for failed, {@code DELAY} for delayed); without NOTIFY, both. The DSN
 * itself is sent from the null sender {@code <>} to the original envelope sender, with {@code Auto-Submitted:
 * auto-replied}.
 */
public final class DsnComposer {

    /** The default limit for returning the full original (larger originals are returned as headers only). */
    public static final long DEFAULT_MAX_FULL_ORIGINAL = 1024 * 1024;

    /** The listener name recorded in the envelope of a DSN (it was not received from a client). */
    public static final String LISTENER = "dsn";

    private static final DateTimeFormatter RFC5322 = DateTimeFormatter
            .ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final byte[] CRLF = {'\r', '\n'};
    private static final int FOLD_AT = 78;
    private static final int MAX_DIAGNOSTIC = 900;

    private final String reportingMta;
    private final String reportingDomain;
    private final long maxFullOriginal;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    /**
     * @param reportingMta    our host name (Reporting-MTA: dns; name)
     * @param reportingDomain the domain of the From: address {@code MAILER-DAEMON@domain}
     * @param maxFullOriginal the largest original returned in full for RET=FULL
     */
    public DsnComposer(String reportingMta, String reportingDomain, long maxFullOriginal, Clock clock) {
        this.reportingMta = clean(reportingMta);
        this.reportingDomain = clean(reportingDomain);
        this.maxFullOriginal = maxFullOriginal;
        this.clock = clock;
    }

    public DsnComposer(String reportingMta) {
        this(reportingMta, reportingMta, DEFAULT_MAX_FULL_ORIGINAL, Clock.systemUTC());
    }

    /**
     * The DSN for {@code original} reporting on those of {@code statuses} that asked for it, or empty when none
     * did or the original has the null sender.
     *
     * @param original the envelope the original message travelled with (inbound or outbound record)
     * @param message  the original message bytes
     * @param statuses what happened to (some of) its recipients
     */
    public Optional<DsnMessage> compose(Envelope original, byte[] message, List<RecipientStatus> statuses) {
        return compose(original, message, statuses, null);
    }

    /**
     * As {@link #compose(Envelope, byte[], List)}, with {@code Will-Retry-Until} (RFC 3464 §2.3.8) on the
     * delayed recipients when {@code willRetryUntil} is given.
     */
    public Optional<DsnMessage> compose(Envelope original, byte[] message, List<RecipientStatus> statuses,
                                        Instant willRetryUntil) {
        if (original.nullSender()) {
            return Optional.empty();
        }
        List<RecipientStatus> reported = statuses.stream().filter(s -> wanted(original.dsn(), s)).toList();
        if (reported.isEmpty()) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        String dsnId = dsnId(original);
        boolean anyFailed = reported.stream().anyMatch(s -> s.action() == RecipientStatus.Action.FAILED);
        boolean global = !isAscii(original.mailFrom()) || reported.stream().anyMatch(s -> !isAscii(s.recipient())
                || !isAscii(orcpt(original.dsn(), s.recipient())));
        boolean full = "FULL".equalsIgnoreCase(ret(original.dsn())) && message.length <= maxFullOriginal;
        byte[] returned = full ? message : headerSection(message);
        String boundary = boundary(message);

        Out out = new Out();
        out.header("Date", RFC5322.format(now));
        out.header("From", "Mail Delivery System <MAILER-DAEMON@" + reportingDomain + ">");
        out.header("To", "<" + clean(original.mailFrom()) + ">");
        out.header("Subject", anyFailed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)");
        out.header("Message-ID", "<" + dsnId.replaceAll("[^A-Za-z0-9._-]", "_") + "." + hex(6) + "@"
                + reportingDomain + ">");
        out.header("Auto-Submitted", "auto-replied");
        out.header("MIME-Version", "1.0");
        out.line("Content-Type: multipart/report; report-type=delivery-status;");
        out.line("\tboundary=\"" + boundary + "\"");
        out.line("");
        out.line("This is a MIME-encapsulated message.");

        // 1: for people
        String text = humanText(original, reported, anyFailed);
        out.line("");
        out.line("--" + boundary);
        out.header("Content-Description", "Notification");
        out.header("Content-Type", "text/plain; charset=" + (isAscii(text) ? "us-ascii" : "utf-8"));
        if (!isAscii(text)) {
            out.header("Content-Transfer-Encoding", "8bit");
        }
        out.line("");
        out.text(text);

        // 2: for machines
        out.line("");
        out.line("--" + boundary);
        out.header("Content-Description", "Delivery report");
        out.header("Content-Type", global ? "message/global-delivery-status" : "message/delivery-status");
        if (global) {
            out.header("Content-Transfer-Encoding", "8bit");
        }
        out.line("");
        out.field("Reporting-MTA", "dns; " + reportingMta);
        if (original.dsn() != null && original.dsn().envid() != null) {
            out.field("Original-Envelope-Id", xtext(original.dsn().envid()));
        }
        if (original.receivedAt() > 0) {
            out.field("Arrival-Date", RFC5322.format(Instant.ofEpochMilli(original.receivedAt())));
        }
        for (RecipientStatus s : reported) {
            out.line("");
            String orcpt = orcpt(original.dsn(), s.recipient());
            if (orcpt != null) {
                out.field("Original-Recipient", orcptField(orcpt));
            }
            out.field("Final-Recipient", (isAscii(s.recipient()) ? "rfc822; " : "utf-8; ") + clean(s.recipient()));
            out.field("Action", s.action().field());
            out.field("Status", s.status());
            if (s.remoteMta() != null) {
                out.field("Remote-MTA", "dns; " + clean(s.remoteMta()));
            }
            if (s.diagnostic() != null) {
                out.field("Diagnostic-Code", clean(s.diagnosticType()) + "; " + diagnostic(s.diagnostic()));
            }
            out.field("Last-Attempt-Date", RFC5322.format(now));
            if (willRetryUntil != null && s.action() == RecipientStatus.Action.DELAYED) {
                out.field("Will-Retry-Until", RFC5322.format(willRetryUntil));
            }
        }

        // 3: the original, or its headers
        out.line("");
        out.line("--" + boundary);
        out.header("Content-Description", full ? "Undelivered Message" : "Undelivered Message Headers");
        out.header("Content-Type", full ? "message/rfc822" : "text/rfc822-headers");
        if (!isAscii(returned)) {
            out.header("Content-Transfer-Encoding", "8bit");
        }
        out.line("");
        out.raw(returned);
        out.line("");
        out.line("--" + boundary + "--");

        byte[] bytes = out.bytes();
        String sender = original.mailFrom();
        Envelope envelope = new Envelope(Envelope.VERSION, dsnId, now.toEpochMilli(), null, reportingMta, LISTENER,
                false, null, "", List.of(sender), !isAscii(sender) || (original.smtputf8() && global),
                isAscii(bytes) ? "7BIT" : "8BITMIME", bytes.length, null, 0, null);
        return Optional.of(new DsnMessage(envelope, bytes, reported.stream().map(RecipientStatus::recipient).toList()));
    }

    /**
     * The DSN's message id: the original's with {@code -dsn}, plus a short digest of the hop when the original
     * is an outbound (per-hop) record, so that one original split over several hops yields distinct ids while a
     * redelivered record yields the same id again (duplicates are recognisable). A retried record (attempts
     * &gt; 0) adds {@code -a<attempts>}: each attempt reports on other recipients or conditions.
     */
    public static String dsnId(Envelope original) {
        if (original.route() == null) {
            return original.messageId() + "-dsn";
        }
        String id = original.messageId() + "-dsn-" + String.format("%08x", original.route().hopKey().hashCode());
        return original.attempts() > 0 ? id + "-a" + original.attempts() : id;
    }

    /** Whether the recipient's NOTIFY asks for a DSN of this kind (RFC 3461 §4.1). */
    static boolean wanted(Dsn dsn, RecipientStatus status) {
        Dsn.Recipient params = params(dsn, status.recipient());
        List<String> notify = params == null ? List.of()
                : params.notifyOn().stream().map(n -> n.trim().toUpperCase(Locale.ROOT)).toList();
        if (notify.contains("NEVER")) {
            return false;
        }
        if (notify.isEmpty()) {
            return true;
        }
        return notify.contains(status.action() == RecipientStatus.Action.FAILED ? "FAILURE" : "DELAY");
    }

    private static Dsn.Recipient params(Dsn dsn, String recipient) {
        if (dsn == null) {
            return null;
        }
        Dsn.Recipient exact = dsn.recipients().get(recipient);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, Dsn.Recipient> e : dsn.recipients().entrySet()) {
            if (e.getKey().equalsIgnoreCase(recipient)) {
                return e.getValue();
            }
        }
        return null;
    }

    private static String orcpt(Dsn dsn, String recipient) {
        Dsn.Recipient params = params(dsn, recipient);
        return params == null ? null : params.orcpt();
    }

    private static String ret(Dsn dsn) {
        return dsn == null ? null : dsn.ret();
    }

    /** {@code addr-type;address} → {@code addr-type; address}. */
    private static String orcptField(String orcpt) {
        int semi = orcpt.indexOf(';');
        if (semi < 0) {
            return "rfc822; " + clean(orcpt);
        }
        return clean(orcpt.substring(0, semi).trim()) + "; " + clean(orcpt.substring(semi + 1).trim());
    }

    private String humanText(Envelope original, List<RecipientStatus> reported, boolean anyFailed) {
        StringBuilder t = new StringBuilder();
        t.append("This is the mail system at host ").append(reportingMta).append(".\n\n");
        if (anyFailed) {
            t.append("Your message could not be delivered to one or more recipients. It is attached below.\n\n");
        } else {
            t.append("Your message has not been delivered yet to one or more recipients. The mail system will\n")
                    .append("keep trying; you do not need to send it again.\n\n");
        }
        for (RecipientStatus s : reported) {
            t.append("<").append(clean(s.recipient())).append(">: ")
                    .append(s.action() == RecipientStatus.Action.FAILED ? "failed" : "delayed");
            if (s.remoteMta() != null) {
                t.append(", host ").append(clean(s.remoteMta())).append(" said");
            }
            t.append(": ").append(s.diagnostic() == null ? "status " + s.status() : diagnostic(s.diagnostic()))
                    .append("\n");
        }
        t.append("\nMessage id: ").append(clean(original.messageId())).append("\n");
        return t.toString();
    }

    private static String diagnostic(String text) {
        String d = clean(text).strip();
        return d.length() > MAX_DIAGNOSTIC ? d.substring(0, MAX_DIAGNOSTIC) + "..." : d;
    }

    /** The original's header section (through the CRLF of its last header line), or all of it if no body. */
    static byte[] headerSection(byte[] message) {
        if (message.length >= 2 && message[0] == '\r' && message[1] == '\n') {
            return new byte[0];
        }
        for (int i = 0; i + 3 < message.length; i++) {
            if (message[i] == '\r' && message[i + 1] == '\n' && message[i + 2] == '\r' && message[i + 3] == '\n') {
                return java.util.Arrays.copyOf(message, i + 2);
            }
        }
        return message;
    }

    private String boundary(byte[] message) {
        while (true) {
            String b = "=_relay-dsn_" + hex(12);
            if (indexOf(message, b.getBytes(StandardCharsets.US_ASCII)) < 0) {
                return b;
            }
        }
    }

    private String hex(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** RFC 3461 §4 xtext: printable ASCII except '+' and '=' as is, everything else as +HH. */
    public static String xtext(String value) {
        StringBuilder s = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c >= 33 && c <= 126 && c != '+' && c != '=') {
                s.append((char) c);
            } else {
                s.append('+').append(String.format("%02X", c));
            }
        }
        return s.toString();
    }

    /** No CR, LF or other control characters inside a field or line (tabs become spaces). */
    private static String clean(String value) {
        if (value == null) {
            return "";
        }
        StringBuilder s = new StringBuilder(value.length());
        value.codePoints().forEach(c -> s.appendCodePoint(c < 0x20 || c == 0x7F ? ' ' : c));
        return s.toString();
    }

    private static boolean isAscii(String s) {
        return s == null || s.chars().allMatch(c -> c < 0x80);
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The message under construction: CRLF line endings, UTF-8 text. */
    private static final class Out {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        void line(String line) {
            bytes.writeBytes(line.getBytes(StandardCharsets.UTF_8));
            bytes.writeBytes(CRLF);
        }

        void header(String name, String value) {
            field(name, value);
        }

        /** {@code Name: value}, folded at white space so that lines stay short (RFC 5322 §2.2.3). */
        void field(String name, String value) {
            for (String l : fold(name + ": " + value, " ")) {
                line(l);
            }
        }

        /** Text with LF line ends, long lines wrapped. */
        void text(String text) {
            for (String paragraph : text.split("\n", -1)) {
                if (paragraph.isEmpty()) {
                    line("");
                    continue;
                }
                for (String l : fold(paragraph, "    ")) {
                    line(l);
                }
            }
        }

        /** Unchanged: the CRLF written after it belongs to the next boundary delimiter (RFC 2046 §5.1.1). */
        void raw(byte[] data) {
            bytes.writeBytes(data);
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }

        private static List<String> fold(String line, String indent) {
            List<String> lines = new ArrayList<>();
            String rest = line;
            boolean first = true;
            while (rest.length() > FOLD_AT) {
                int cut = rest.lastIndexOf(' ', FOLD_AT);
                if (cut <= indent.length()) {
                    cut = rest.indexOf(' ', FOLD_AT);
                }
                if (cut <= 0) {
                    break;
                }
                lines.add(rest.substring(0, cut));
                rest = indent + rest.substring(cut + 1);
                first = false;
            }
            lines.add(rest);
            return first ? List.of(line) : lines;
        }
    }
}
