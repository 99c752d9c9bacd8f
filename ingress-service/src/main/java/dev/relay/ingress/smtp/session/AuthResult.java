package dev.relay.ingress.smtp.session;

import dev.relay.common.envelope.Identity;

/** The answer of the identity provider to a credential check. */
public sealed interface AuthResult {

    record Success(Identity identity) implements AuthResult {
    }

    /** Unknown user, wrong password, disabled user: all look the same to the client (535 5.7.8). */
    record Invalid() implements AuthResult {
    }

    /** The identity provider could not be asked (down, slow, 5xx): 454 4.7.0, never 535. */
    record Unavailable(String why) implements AuthResult {
    }
}
