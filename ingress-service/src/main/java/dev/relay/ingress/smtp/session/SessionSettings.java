package dev.relay.ingress.smtp.session;

import dev.relay.common.rules.RelayRules;
import dev.relay.ingress.smtp.protocol.MemoryBudget;

import java.util.function.Supplier;

/**
 * What a session needs to know about the server: fixed at connection time, except the relay rules, which are
 * read from {@code rulesSource} at every use so that a rule change applies without a restart.
 *
 * @param serverName     the name in the greeting, EHLO reply and Received: header
 * @param maxMessageSize bytes, advertised with SIZE
 * @param maxRecipients  recipients per message (452 4.5.3 beyond)
 * @param maxErrors      errors before 421 and disconnect
 * @param maxLineLength  longest text line in DATA/BDAT content, octets including CRLF
 * @param maxHeaderSize  largest header section, octets
 * @param maxHops        most Received: headers a message may carry (loop protection)
 * @param tlsAvailable   whether a certificate is configured (STARTTLS offered)
 * @param rulesSource    the relay rules in force (e.g. {@code dev.relay.ingress.rules.LiveRules})
 * @param memory         the ceiling on message bytes held across all sessions
 * @param rateLimits     the cluster-wide usage the rule set's rate limits are checked against at MAIL and RCPT
 */
public record SessionSettings(String serverName, long maxMessageSize, int maxRecipients, int maxErrors,
                              int maxLineLength, int maxHeaderSize, int maxHops, boolean tlsAvailable,
                              Supplier<RelayRules> rulesSource, MemoryBudget memory, RateLimitGate rateLimits) {

    /** Without rate-limit usage (every rate limit admits). */
    public SessionSettings(String serverName, long maxMessageSize, int maxRecipients, int maxErrors,
                           int maxLineLength, int maxHeaderSize, int maxHops, boolean tlsAvailable,
                           Supplier<RelayRules> rulesSource, MemoryBudget memory) {
        this(serverName, maxMessageSize, maxRecipients, maxErrors, maxLineLength, maxHeaderSize, maxHops,
                tlsAvailable, rulesSource, memory, RateLimitGate.NONE);
    }

    /** Fixed rules (tests). */
    public SessionSettings(String serverName, long maxMessageSize, int maxRecipients, int maxErrors,
                           int maxLineLength, int maxHeaderSize, int maxHops, boolean tlsAvailable,
                           RelayRules rules, MemoryBudget memory) {
        this(serverName, maxMessageSize, maxRecipients, maxErrors, maxLineLength, maxHeaderSize, maxHops,
                tlsAvailable, (Supplier<RelayRules>) () -> rules, memory);
    }

    /** The relay rules in force now: read at every RCPT. */
    public RelayRules rules() {
        return rulesSource.get();
    }
}
