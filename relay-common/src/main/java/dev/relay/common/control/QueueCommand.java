package dev.relay.common.control;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Locale;
import java.util.Objects;
import java.util.UUID;

/**
 * One operator command on {@code relay.control.v1} (key = {@link #id}), acted on by every delivery worker for the
 * retry tiers and held records it owns. Exactly one scope is set: one message ({@code messageId}), one destination
 * ({@code domain}, the recipient domain, lower case) or {@code all} (only for {@link Action#RETRY_NOW}).
 *
 * @param id        a random id naming the command in events and markers
 * @param action    what to do with the matching waiting messages
 * @param messageId the queue id of one message, else null
 * @param domain    the recipient domain, lower case, else null
 * @param all       every waiting message (retry now only)
 * @param actor     who asked: the Keycloak username (or client id) of the caller
 * @param issuedAt  epoch milliseconds; only records deferred before it match
 * @param reason    the operator's note, at most {@link #MAX_REASON} characters, may be empty
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record QueueCommand(String id, Action action, String messageId, String domain, boolean all, String actor,
                           long issuedAt, String reason) {

    public static final int MAX_REASON = 256;
    public static final int MAX_ACTOR = 255;
    /** A queue id is short and plain; anything longer or stranger is refused before it is written. */
    public static final int MAX_MESSAGE_ID = 64;

    public enum Action {
        /** Attempt the matching messages now instead of at their due time; not counted as an extra attempt. */
        RETRY_NOW,
        /** Give up on the matching messages: a failure DSN to the sender (where one is due) and a bounced event. */
        BOUNCE,
        /** Drop the matching messages silently: a deleted event, no DSN. */
        DELETE
    }

    public QueueCommand {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(action, "action");
        int scopes = (messageId != null ? 1 : 0) + (domain != null ? 1 : 0) + (all ? 1 : 0);
        if (scopes != 1) {
            throw new IllegalArgumentException("exactly one of messageId, domain and all must be given");
        }
        if (all && action != Action.RETRY_NOW) {
            throw new IllegalArgumentException("only retry-now applies to all messages; bounce and delete need a"
                    + " message or a domain");
        }
        if (messageId != null) {
            messageId = messageId(messageId);
        }
        if (domain != null) {
            domain = DestinationHold.domain(domain);
        }
        actor = Text.line(actor, MAX_ACTOR);
        reason = Text.line(reason, MAX_REASON);
    }

    /** A new command with a random id, issued now. */
    public static QueueCommand of(Action action, String messageId, String domain, boolean all, String actor,
                                  String reason) {
        return new QueueCommand(UUID.randomUUID().toString(), action, messageId, domain, all, actor,
                System.currentTimeMillis(), reason);
    }

    /** Whether a waiting message of this id and recipient domain, deferred at {@code deferredAt}, is meant. */
    public boolean matches(String queueId, String recipientDomain, long deferredAt) {
        if (deferredAt > issuedAt) {
            return false;
        }
        if (all) {
            return true;
        }
        if (messageId != null) {
            return messageId.equals(queueId);
        }
        return recipientDomain != null && domain.equals(recipientDomain.toLowerCase(Locale.ROOT));
    }

    /** The action as the API and events spell it: {@code retry-now}, {@code bounce}, {@code delete}. */
    public String actionName() {
        return action.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static String messageId(String value) {
        String v = value.strip();
        if (v.isEmpty() || v.length() > MAX_MESSAGE_ID) {
            throw new IllegalArgumentException("a message id has 1 to " + MAX_MESSAGE_ID + " characters");
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
                    || c == '.')) {
                throw new IllegalArgumentException("a message id has only letters, digits, '-', '_' and '.'");
            }
        }
        return v;
    }
}
