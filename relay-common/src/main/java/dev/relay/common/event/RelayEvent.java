package dev.relay.common.event;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;
import java.util.List;

/**
 * A lifecycle event on {@code relay.events.v1}, keyed by message id.
 *
 * @param type       received, rejected, routed, deferred, delivered, bounced, expired (deferred recipients given
 *                   up on after the retry max-age), suppressed (not attempted: on the suppression list)
 * @param messageId  Relay's queue id
 * @param at         epoch milliseconds
 * @param service    ingress, policy or delivery
 * @param recipients the recipients the event is about
 * @param reason     the rule, reply or error that explains it
 * @param remote     for delivery events: the remote host that answered
 * @param attempt    for delivery events: which attempt of this hop (1 = the first), else null
 * @param tls        for delivery events: TLS protocol and cipher suite of the session, null when plain text or
 *                   no session took place
 * @param latencyMs  for delivery events: milliseconds from the message's receipt to this outcome
 * @param mtaSts     for delivery events to a domain with an MTA-STS policy (RFC 8461): its mode and whether the
 *                   attempt passed it (in mode testing: would have passed), else null
 * @param dkim       for {@code routed} events: the DKIM signatures the outbound copy carries, as
 *                   {@code domain/selector}; null when it was not signed
 * @param sender     for {@code received} and refusal events: the envelope sender (MAIL FROM, empty for {@code <>})
 * @param submission for ingress events: who submitted over which listener (see {@link Submission}), else null
 * @param tlsPolicy  for delivery events: which outbound TLS policy applied and where it came from, else null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RelayEvent(String type, String messageId, long at, String service, List<String> recipients,
                         String reason, String remote, Integer attempt, Tls tls, Long latencyMs, MtaSts mtaSts,
                         List<String> dkim, String sender, Submission submission, TlsPolicy tlsPolicy) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The negotiated TLS of a delivery session, e.g. {@code TLSv1.3} / {@code TLS_AES_256_GCM_SHA384}. */
    public record Tls(String protocol, String cipher) {
    }

    /**
     * MTA-STS of the recipients' domain: {@code mode} enforce|testing|none, {@code result} pass|fail|fetch-failed.
     */
    public record MtaSts(String mode, String result) {
    }

    /**
     * The ingress side of a message: the authenticated identity (username or client id, null when anonymous),
     * the client's address, the listener (submission, smtps, relay), the size in bytes, the number of recipients
     * and the TLS protocol of the session (null when plain text).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Submission(String identity, String client, String listener, Long size, Integer recipientCount,
                             String tls) {
    }

    /**
     * The outbound TLS decision of a delivery attempt: {@code policy} none|may|encrypt|verify|dane|dane-only|secure,
     * {@code source} table|dane|mta-sts|default|route, {@code dane} verified|failed|no-tlsa|insecure|lookup-failed
     * (null when DANE was not considered).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TlsPolicy(String policy, String source, String dane) {
    }

    /** The canonical constructor with the newer details absent. */
    public RelayEvent(String type, String messageId, long at, String service, List<String> recipients,
                      String reason, String remote, Integer attempt, Tls tls, Long latencyMs, MtaSts mtaSts,
                      List<String> dkim) {
        this(type, messageId, at, service, recipients, reason, remote, attempt, tls, latencyMs, mtaSts, dkim,
                null, null, null);
    }

    public RelayEvent(String type, String messageId, long at, String service, List<String> recipients,
                      String reason, String remote) {
        this(type, messageId, at, service, recipients, reason, remote, null, null, null, null, null);
    }

    /** An event without an MTA-STS check or DKIM signatures. */
    public RelayEvent(String type, String messageId, long at, String service, List<String> recipients,
                      String reason, String remote, Integer attempt, Tls tls, Long latencyMs) {
        this(type, messageId, at, service, recipients, reason, remote, attempt, tls, latencyMs, null, null);
    }

    /** The same event with the delivery details. */
    public RelayEvent withDelivery(int attempt, Tls tls, long latencyMs) {
        return new RelayEvent(type, messageId, at, service, recipients, reason, remote, attempt, tls, latencyMs,
                mtaSts, dkim, sender, submission, tlsPolicy);
    }

    /** The same event with the MTA-STS check of its attempt (null: none). */
    public RelayEvent withMtaSts(MtaSts check) {
        return new RelayEvent(type, messageId, at, service, recipients, reason, remote, attempt, tls, latencyMs,
                check, dkim, sender, submission, tlsPolicy);
    }

    /** The same event naming the DKIM signatures ({@code domain/selector}) of the outbound copy; empty: none. */
    public RelayEvent withDkim(List<String> signatures) {
        return new RelayEvent(type, messageId, at, service, recipients, reason, remote, attempt, tls, latencyMs,
                mtaSts, signatures == null || signatures.isEmpty() ? null : List.copyOf(signatures), sender, submission,
                tlsPolicy);
    }

    /** The same event with the envelope sender and the ingress side of the message. */
    public RelayEvent withSubmission(String envelopeSender, Submission details) {
        return new RelayEvent(type, messageId, at, service, recipients, reason, remote, attempt, tls, latencyMs,
                mtaSts, dkim, envelopeSender, details, tlsPolicy);
    }

    /** The same event with the outbound TLS decision of its attempt (null: none). */
    public RelayEvent withTlsPolicy(TlsPolicy decision) {
        return new RelayEvent(type, messageId, at, service, recipients, reason, remote, attempt, tls, latencyMs,
                mtaSts, dkim, sender, submission, decision);
    }

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
