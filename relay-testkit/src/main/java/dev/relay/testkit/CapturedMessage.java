package dev.relay.testkit;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * One message received by the {@link CaptureMx}.
 *
 * @param mailFrom   the reverse path without angle brackets ("" for the null sender {@code <>})
 * @param recipients the accepted forward paths, without angle brackets, in order
 * @param data       the message exactly as received after dot-unstuffing, up to and including the CRLF before the
 *                   terminating {@code .} line
 * @param heloName   the name given in EHLO/HELO, or {@code null}
 * @param file       where it was saved, or {@code null} if the capture MX has no mail directory
 */
public record CapturedMessage(String mailFrom, List<String> recipients, byte[] data, String heloName, Path file) {

    public CapturedMessage {
        recipients = List.copyOf(recipients);
    }

    /** The message decoded as UTF-8 (for assertions on text; compare {@link #data()} for exact bytes). */
    public String dataAsString() {
        return new String(data, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "CapturedMessage[from=<" + mailFrom + ">, to=" + recipients + ", " + data.length + " bytes, helo="
                + heloName + ", file=" + file + "]";
    }
}
