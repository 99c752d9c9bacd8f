package dev.relay.ingress.smtp.session;

import dev.relay.common.rules.RelayRules;
import dev.relay.ingress.smtp.protocol.MemoryBudget;

/**
 * What a session needs to know about the server: fixed at connection time.
 *
 * @param serverName     the name in the greeting, EHLO reply and Received: header
 * @param maxMessageSize bytes, advertised with SIZE
 * @param maxRecipients  recipients per message (452 4.5.3 beyond)
 * @param maxErrors      errors before 421 and disconnect
 * @param maxLineLength  longest text line in DATA/BDAT content, octets including CRLF
 * @param maxHeaderSize  largest header section, octets
 * @param maxHops        most Received: headers a message may carry (loop protection)
 * @param tlsAvailable   whether a certificate is configured (STARTTLS offered)
 * @param rules          the relay rule engine
 * @param memory         the ceiling on message bytes held across all sessions
 */
public record SessionSettings(String serverName, long maxMessageSize, int maxRecipients, int maxErrors,
                              int maxLineLength, int maxHeaderSize, int maxHops, boolean tlsAvailable,
                              RelayRules rules, MemoryBudget memory) {
}
