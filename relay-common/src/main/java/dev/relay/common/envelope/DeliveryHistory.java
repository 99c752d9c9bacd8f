package dev.relay.common.envelope;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Map;

/**
 * What the delivery service remembers between attempts of one outbound record (carried in its retry records).
 *
 * @param firstAttemptAt epoch milliseconds of the first attempt
 * @param lastAttemptAt  epoch milliseconds of the latest attempt
 * @param lastReplies    per deferred recipient: the latest reply (remote or our own reason) and who gave it
 * @param delayNotified  a "delayed" DSN has been sent for this record (at most one is sent)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record DeliveryHistory(long firstAttemptAt, long lastAttemptAt, Map<String, LastReply> lastReplies,
                              boolean delayNotified) {

    public DeliveryHistory {
        lastReplies = lastReplies == null ? Map.of() : Map.copyOf(lastReplies);
    }

    /**
     * @param reply  the reply in SMTP form ({@code 451 4.3.0 try later}) or our own reason in that form
     * @param remote the host that answered ({@code mx.example.org[192.0.2.1]:25}), null when none did
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record LastReply(String reply, String remote) {
    }

    /** The latest reply for a recipient, or null. */
    public LastReply lastReply(String recipient) {
        return lastReplies.get(recipient);
    }
}
