package dev.relay.delivery.tlsrpt;

import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.Route;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * A report as mail (RFC 8460 §5.3): {@code multipart/report; report-type="tlsrpt"} with a short text part and the
 * gzipped report as an {@code application/tlsrpt+gzip} attachment named
 * {@code submitter!policy-domain!begin!end!id.json.gz}, the headers {@code TLS-Report-Domain} and
 * {@code TLS-Report-Submitter}, the subject {@code Report Domain: <domain> Submitter: <submitter>
 * Report-ID: <id>}. Its envelope comes from the configured report sender, carries no identity (never a user's)
 * and goes by the MX of the rua address's domain. Pure.
 */
public final class ReportMail {

    /** The listener name of report records, as events and the envelope show it. */
    public static final String LISTENER = "tlsrpt";

    public record Composed(Envelope envelope, byte[] message) {
        public String key() {
            return envelope.messageId() + ":" + envelope.route().hopKey();
        }
    }

    private ReportMail() {
    }

    public static Composed compose(TlsReport.Built report, String submitter, String sender, String rua,
                                   String ownName, ZonedDateTime now) {
        String id = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        String boundary = "tlsrpt-" + id;
        String filename = submitter.replaceAll("[^A-Za-z0-9.-]", "_") + "!" + report.domain() + "!"
                + report.start().getEpochSecond() + "!" + report.end().getEpochSecond() + ".json.gz";
        String attachment = Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(report.gzip());
        String message = "From: <" + sender + ">\r\n"
                + "To: <" + rua + ">\r\n"
                + "Date: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(now.withZoneSameInstant(ZoneOffset.UTC))
                + "\r\n"
                + "Message-ID: <" + id + "." + report.start().getEpochSecond() + "@" + ownName + ">\r\n"
                + "Subject: Report Domain: " + report.domain() + " Submitter: " + submitter + " Report-ID: <"
                + report.id() + ">\r\n"
                + "TLS-Report-Domain: " + report.domain() + "\r\n"
                + "TLS-Report-Submitter: " + submitter + "\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"" + boundary + "\"\r\n"
                + "\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n"
                + "\r\n"
                + "This is an aggregate TLS report (RFC 8460) from " + submitter + " for " + report.domain()
                + ".\r\n"
                + "\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: application/tlsrpt+gzip\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "Content-Disposition: attachment; filename=\"" + filename + "\"\r\n"
                + "\r\n"
                + attachment + "\r\n"
                + "--" + boundary + "--\r\n";
        byte[] bytes = message.getBytes(StandardCharsets.US_ASCII);
        String domain = rua.substring(rua.lastIndexOf('@') + 1).toLowerCase(java.util.Locale.ROOT);
        Envelope envelope = new Envelope(Envelope.VERSION, id, now.toInstant().toEpochMilli(), null, ownName,
                LISTENER, false, null, sender, List.of(rua), false, "7BIT", bytes.length, Route.mx(domain), 0, null);
        return new Composed(envelope, bytes);
    }
}
