package dev.relay.common.envelope;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * Delivery Status Notification parameters given by the client (RFC 3461), carried for the delivery service to
 * pass on to DSN-capable servers and to honour when it writes bounces.
 *
 * @param ret        FULL or HDRS (MAIL RET=), null when not given
 * @param envid      the envelope id (MAIL ENVID=), decoded from xtext, null when not given
 * @param recipients per recipient address: NOTIFY and ORCPT (RCPT parameters); only recipients that gave any
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Dsn(String ret, String envid, Map<String, Recipient> recipients) {

    public Dsn {
        recipients = recipients == null ? Map.of() : Map.copyOf(recipients);
    }

    /**
     * @param notifyOn NEVER, or any of SUCCESS, FAILURE, DELAY; empty when not given (the default then is
     *               FAILURE,DELAY, RFC 3461 §4.1)
     * @param orcpt  the original recipient as {@code addr-type;address} with the address decoded from xtext
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Recipient(@JsonProperty("notify") List<String> notifyOn, String orcpt) {
        public Recipient {
            notifyOn = notifyOn == null ? List.of() : List.copyOf(notifyOn);
        }
    }

    public boolean isEmpty() {
        return ret == null && envid == null && recipients.isEmpty();
    }
}
