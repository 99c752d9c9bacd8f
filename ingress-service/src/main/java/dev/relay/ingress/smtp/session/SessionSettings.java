package dev.relay.ingress.smtp.session;

import dev.relay.common.rules.RelayRules;

/**
 * What a session needs to know about the server: fixed at connection time.
 *
 * @param serverName     the name in the greeting, EHLO reply and Received: header
 * @param maxMessageSize bytes, advertised with SIZE
 * @param maxRecipients  recipients per message (452 4.5.3 beyond)
 * @param maxErrors      errors before 421 and disconnect
 * @param tlsAvailable   whether a certificate is configured (STARTTLS offered)
 * @param rules          the relay rule engine
 */
public record SessionSettings(String serverName, long maxMessageSize, int maxRecipients, int maxErrors,
                              boolean tlsAvailable, RelayRules rules) {
}
