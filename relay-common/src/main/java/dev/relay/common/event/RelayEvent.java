package dev.relay.common.event;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;
import java.util.List;

/**
 * A lifecycle event on {@code relay.events.v1}, keyed by message id.
 *
 * @param type       received, rejected, routed, deferred, delivered, bounced, expired
 * @param messageId  Relay's queue id
 * @param at         epoch milliseconds
 * @param service    ingress, policy or delivery
 * @param recipients the recipients the event is about
 * @param reason     the rule, reply or error that explains it
 * @param remote     for delivery events: the remote host that answered
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RelayEvent(String type, String messageId, long at, String service, List<String> recipients,
                         String reason, String remote) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static RelayEvent of(String type, String messageId, String service, List<String> recipients,
                                String reason, String remote) {
        return new RelayEvent(type, messageId, System.currentTimeMillis(), service, recipients, reason, remote);
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
