package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;

/** The answer of the identity provider to a credential check. */
public sealed interface AuthResult {

    /**
     * @param validUntil epoch millis after which the session must authenticate again (a token's {@code exp}, or
     *                   the configured session lifetime of a password check)
     */
    record Success(Identity identity, long validUntil) implements AuthResult {
        /** Without an end (tests, tools). */
        public Success(Identity identity) {
            this(identity, Long.MAX_VALUE);
        }
    }

    /** Unknown user, wrong password, disabled user: all look the same to the client (535 5.7.8). */
    record Invalid() implements AuthResult {
    }

    /** The identity provider could not be asked (down, slow, 5xx): 454 4.7.0, never 535. */
    record Unavailable(String why) implements AuthResult {
    }
}
