package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Envelope;
import dev.relay.ingress.smtp.protocol.DataDecoder;
import dev.relay.ingress.smtp.protocol.Reply;

/**
 * What the session asks its I/O edge to do next. The edge performs it and, for the asynchronous ones
 * ({@link VerifyPassword}, {@link Publish}), reports the result back to the session before reading on.
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

    /** Check a username and password with the identity provider; report with {@code onAuthResult}. */
    record VerifyPassword(String mechanism, String username, String password) implements Action {
        @Override
        public String toString() {
            return "VerifyPassword[" + mechanism + ", " + username + ", ***]";
        }
    }

    /**
     * Verify an access token (XOAUTH2 or OAUTHBEARER); {@code saslPayload} is the decoded client response holding
     * it. Report with {@code onAuthResult}.
     */
    record VerifyToken(String mechanism, byte[] saslPayload) implements Action {
        @Override
        public String toString() {
            return "VerifyToken[" + mechanism + ", ***]";
        }
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
