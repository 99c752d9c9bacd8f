package dev.relay.common.dsn;

import dev.relay.common.envelope.Envelope;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
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
 * conditions it names ({@code FAILURE} for failed, {@code DELAY} for delayed, {@code SUCCESS} for delivered and
 * relayed); without NOTIFY, failed and delayed (never a success). The DSN
 * itself is sent from the null sender {@code <>} to the original envelope sender, with {@code Auto-Submitted:
 * auto-replied}.
 *
 * <p>This class decides and orders the parts; the human text and the cleaning of values are in {@link DsnText},
 * the MIME assembly in {@link MimeLines}, what is taken from the original and its DSN parameters in
 * {@link OriginalMessage}, the xtext of ENVID in {@link Xtext}.
 */
public final class DsnComposer {

    /** The default limit for returning the full original (larger originals are returned as headers only). */
    public static final long DEFAULT_MAX_FULL_ORIGINAL = 1024 * 1024;

    /** The listener name recorded in the envelope of a DSN (it was not received from a client). */
    public static final String LISTENER = "dsn";

    private static final DateTimeFormatter RFC5322 = DateTimeFormatter
            .ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

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
        this.reportingMta = DsnText.clean(reportingMta);
        this.reportingDomain = DsnText.clean(reportingDomain);
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
        List<RecipientStatus> reported = statuses.stream().filter(s -> OriginalMessage.wanted(original.dsn(), s)).toList();
        if (reported.isEmpty()) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        String dsnId = dsnId(original);
        boolean anyFailed = reported.stream().anyMatch(s -> s.action() == RecipientStatus.Action.FAILED);
        boolean onlySuccess = reported.stream().allMatch(s -> s.action().success());
        boolean global = !MimeLines.isAscii(original.mailFrom())
                || reported.stream().anyMatch(s -> !MimeLines.isAscii(s.recipient())
                        || !MimeLines.isAscii(OriginalMessage.orcpt(original.dsn(), s.recipient())));
        boolean full = "FULL".equalsIgnoreCase(OriginalMessage.ret(original.dsn())) && message.length <= maxFullOriginal;
        byte[] returned = full ? message : OriginalMessage.headerSection(message);
        String boundary = boundary(message);

        MimeLines out = new MimeLines();
        out.header("Date", RFC5322.format(now));
        out.header("From", "Mail Delivery System <MAILER-DAEMON@" + reportingDomain + ">");
        out.header("To", "<" + DsnText.clean(original.mailFrom()) + ">");
        out.header("Subject", anyFailed ? "Undelivered Mail Returned to Sender"
                : onlySuccess ? "Successful Mail Delivery Report" : "Delayed Mail (still being retried)");
        out.header("Message-ID", "<" + dsnId.replaceAll("[^A-Za-z0-9._-]", "_") + "." + hex(6) + "@"
                + reportingDomain + ">");
        out.header("Auto-Submitted", "auto-replied");
        out.header("MIME-Version", "1.0");
        out.line("Content-Type: multipart/report; report-type=delivery-status;");
        out.line("\tboundary=\"" + boundary + "\"");
        out.line("");
        out.line("This is a MIME-encapsulated message.");

        // 1: for people
        String text = DsnText.humanText(reportingMta, original, reported, anyFailed);
        out.line("");
        out.line("--" + boundary);
        out.header("Content-Description", "Notification");
        out.header("Content-Type", "text/plain; charset=" + (MimeLines.isAscii(text) ? "us-ascii" : "utf-8"));
        if (!MimeLines.isAscii(text)) {
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
            out.field("Original-Envelope-Id", Xtext.encode(original.dsn().envid()));
        }
        if (original.receivedAt() > 0) {
            out.field("Arrival-Date", RFC5322.format(Instant.ofEpochMilli(original.receivedAt())));
        }
        for (RecipientStatus s : reported) {
            out.line("");
            String orcpt = OriginalMessage.orcpt(original.dsn(), s.recipient());
            if (orcpt != null) {
                out.field("Original-Recipient", OriginalMessage.orcptField(orcpt));
            }
            out.field("Final-Recipient", (MimeLines.isAscii(s.recipient()) ? "rfc822; " : "utf-8; ")
                    + DsnText.clean(s.recipient()));
            out.field("Action", s.action().field());
            out.field("Status", s.status());
            if (s.remoteMta() != null) {
                out.field("Remote-MTA", "dns; " + DsnText.clean(s.remoteMta()));
            }
            if (s.diagnostic() != null) {
                out.field("Diagnostic-Code", DsnText.clean(s.diagnosticType()) + "; " + DsnText.diagnostic(s.diagnostic()));
            }
            out.field("Last-Attempt-Date", RFC5322.format(now));
            if (willRetryUntil != null && s.action() == RecipientStatus.Action.DELAYED) {
                out.field("Will-Retry-Until", RFC5322.format(willRetryUntil));
            }
        }

        // 3: the original, or its headers
        out.line("");
        out.line("--" + boundary);
        String returnedName = onlySuccess ? "Delivered Message" : "Undelivered Message";
        out.header("Content-Description", full ? returnedName : returnedName + " Headers");
        out.header("Content-Type", full ? "message/rfc822" : "text/rfc822-headers");
        if (!MimeLines.isAscii(returned)) {
            out.header("Content-Transfer-Encoding", "8bit");
        }
        out.line("");
        out.raw(returned);
        out.line("");
        out.line("--" + boundary + "--");

        byte[] bytes = out.bytes();
        String sender = original.mailFrom();
        Envelope envelope = new Envelope(Envelope.VERSION, dsnId, now.toEpochMilli(), null, reportingMta, LISTENER,
                false, null, "", List.of(sender), !MimeLines.isAscii(sender) || (original.smtputf8() && global),
                MimeLines.isAscii(bytes) ? "7BIT" : "8BITMIME", bytes.length, null, 0, null);
        return Optional.of(new DsnMessage(envelope, bytes, reported.stream().map(RecipientStatus::recipient).toList()));
    }

    /**
     * Whether the recipient asked for a DSN on {@code condition} ({@code SUCCESS}, {@code FAILURE},
     * {@code DELAY}; RFC 3461 §4.1, no NOTIFY = FAILURE,DELAY, NEVER = nothing), case-insensitively by address.
     */
    public static boolean notifies(Envelope original, String recipient, String condition) {
        return OriginalMessage.wanted(original.dsn(), recipient, condition.toUpperCase(Locale.ROOT));
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

    private String boundary(byte[] message) {
        while (true) {
            String b = "=_relay-dsn_" + hex(12);
            if (MimeLines.indexOf(message, b.getBytes(StandardCharsets.US_ASCII)) < 0) {
                return b;
            }
        }
    }

    private String hex(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
