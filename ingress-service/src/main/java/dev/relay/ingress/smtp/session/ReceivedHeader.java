package dev.relay.ingress.smtp.session;

import dev.relay.common.address.MailAddress;
import dev.relay.ingress.smtp.protocol.Printable;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** Our trace header (RFC 5321 §4.4, protocol names from RFC 3848), prepended to every accepted message. */
final class ReceivedHeader {

    private static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);

    private ReceivedHeader() {
    }

    static byte[] build(String helo, String clientAddress, String serverName, String protocol, String id,
                        List<MailAddress> recipients) {
        StringBuilder sb = new StringBuilder("Received: from ").append(clean(helo))
                .append(" ([").append(clientAddress).append("])\r\n\tby ").append(serverName)
                .append(" (Relay) with ").append(protocol).append(" id ").append(id);
        // a single recipient is named, as Postfix does; several would disclose Bcc recipients to each other
        if (recipients.size() == 1) {
            sb.append("\r\n\tfor <").append(recipients.get(0)).append('>');
        }
        sb.append(";\r\n\t").append(DATE.format(ZonedDateTime.now(ZoneOffset.UTC))).append("\r\n");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The HELO name is client-controlled: keep it to printable non-space characters. */
    private static String clean(String helo) {
        StringBuilder sb = new StringBuilder();
        helo.codePoints().filter(c -> Printable.visible(c) && c != '(' && c != ')').forEach(sb::appendCodePoint);
        return sb.length() == 0 ? "unknown" : sb.toString();
    }
}
