package dev.relay.delivery.outcome;

/**
 * Where in one delivery attempt a recipient's result was decided: before any connection (address, route, DNS),
 * while no host of the hop could be used (connect, greeting, EHLO, TLS, our own limits), or at a command of the
 * transaction. Carried with the result for logs and tests; events and DSNs show the reply text as before.
 */
public enum Phase {
    /** Decided before connecting: recipient syntax, routing, DNS, an unexpected error. */
    ROUTE,
    /** Not attempted: the recipient is on the suppression list (a hard bounce earlier, or an administrator). */
    SUPPRESSED,
    /** No host of the hop took a transaction: connect, greeting, EHLO, STARTTLS, held by our limits. */
    CONNECT,
    /** The server greeted us with our own name (mail would loop). */
    GREETING,
    /** AUTH towards a smarthost or route: our credential missing, refused, or not to be sent (no TLS). */
    AUTH,
    MAIL,
    RCPT,
    /** The DATA command. */
    DATA,
    /** The reply to the final dot, or the channel lost after MAIL was accepted. */
    MESSAGE
}
