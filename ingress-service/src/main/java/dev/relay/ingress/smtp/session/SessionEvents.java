package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Identity;
import dev.relay.ingress.smtp.protocol.Reply;

import java.util.List;

/**
 * Where a session reports what it refused in the dialogue, for the events topic (the connection adds what the pure
 * session does not know: the TLS protocol, the per-session bound, the Kafka side). Called on the session's event
 * loop; an implementation must not block.
 */
public interface SessionEvents {

    /**
     * A sender, recipient or message was refused.
     *
     * @param queueId    the transaction's queue id (given at MAIL), or null when no transaction is open (a refused
     *                   MAIL): the implementation then uses an id of the session's own
     * @param sender     the envelope sender as the client gave it (empty for {@code <>}), or null before MAIL
     * @param recipients the refused recipient(s): at RCPT the one given, at the end of a message all of it
     * @param reply      the reply the client got (code, enhanced status code, text)
     * @param rule       the rule path when a rule refused (e.g. {@code grants[0].recipients.deny}), else null
     * @param identity   the authenticated identity, null when anonymous
     */
    void refused(String queueId, String sender, List<String> recipients, Reply reply, String rule, Identity identity);

    /** Reports nothing (tests of the pure session). */
    SessionEvents NONE = (queueId, sender, recipients, reply, rule, identity) -> { };
}
