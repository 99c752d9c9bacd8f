package dev.relay.ingress.smtp.server;

/**
 * What the next bytes from a client are, at the socket edge: the one place the edge keeps its reading state. The
 * session decides the mode through the {@link dev.relay.ingress.smtp.session.Action actions} it returns; the edge
 * does not look at the session's own states. Whether the client reads its replies (write back-pressure) and
 * whether the server is draining are not input modes and are kept apart.
 */
enum InputMode {
    /** Command lines, or SASL response lines, each ended by CRLF. */
    LINES,
    /** The rest of an over-long line, discarded up to its CRLF and then answered. */
    DISCARDING_LINE,
    /** DATA content, fed to the decoder until the final CRLF.CRLF. */
    DATA,
    /** A BDAT chunk of announced length, moved into its buffer (or discarded). */
    CHUNK,
    /** An asynchronous action is in progress (AUTH check, Kafka publish, TLS handshake): input is held. */
    WAITING,
    /** The connection is closed or being closed: input is dropped. */
    CLOSED;

    /** Whether command lines are being read (the session may be closed between commands). */
    boolean readsLines() {
        return this == LINES || this == DISCARDING_LINE;
    }

    /** Whether message bytes are being read (DATA content or a BDAT chunk). */
    boolean readsMessage() {
        return this == DATA || this == CHUNK;
    }
}
