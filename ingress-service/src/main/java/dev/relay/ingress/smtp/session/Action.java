package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Envelope;
import dev.relay.ingress.auth.sasl.Credentials;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.Reply;

/**
 * What the session asks its I/O edge to do next. The edge performs it and, for the asynchronous ones
 * ({@link Verify}, {@link Publish}), reports the result back to the session before reading on.
 */
public sealed interface Action {

    record Send(Reply reply) implements Action {
    }

    record SendAndClose(Reply reply) implements Action {
    }

    /** Send the reply, discard every byte the client pipelined behind STARTTLS, then start the TLS handshake. */
    record StartTls(Reply reply) implements Action {
    }

    /** Send 354 and feed the following bytes to the decoder until it is done. */
    record ReadData(Reply reply, DataDecoder decoder) implements Action {
    }

    /**
     * Check the credentials a SASL exchange produced with the identity provider (a password with Keycloak, a token
     * locally); report with {@code onAuthResult}.
     */
    record Verify(Credentials credentials) implements Action {
    }

    /**
     * Read exactly {@code size} octets of a BDAT chunk into {@code buffer} (or discard them when it is null),
     * then report with {@code onChunk}; {@code refusal}, when set, is the reply to send after discarding.
     */
    record ReadChunk(long size, boolean last, dev.relay.ingress.smtp.protocol.MessageBuffer buffer, Reply refusal)
            implements Action {
    }

    /**
     * Store the message durably; report the answer (acknowledged, or not in time) with {@code onPublished}, and once
     * the producer is really done with the record (acknowledged, failed or expired, possibly after the answer)
     * report with {@code onSettled}, which frees {@code buffer}'s memory.
     */
    record Publish(Envelope envelope, byte[] message, dev.relay.ingress.smtp.protocol.MessageBuffer buffer)
            implements Action {
    }
}
