package dev.relay.ingress.auth.sasl;

/**
 * What a finished SASL exchange asks the identity provider to check. Secrets are kept out of {@code toString}, so
 * that a logged step never carries them.
 */
public sealed interface Credentials {

    /** The SASL mechanism that produced these credentials (a bounded metrics tag). */
    String mechanism();

    /** PLAIN or LOGIN: a username and password, checked with Keycloak. */
    record Password(String mechanism, String username, String password) implements Credentials {
        @Override
        public String toString() {
            return "Password[" + mechanism + ", " + username + ", ***]";
        }
    }

    /**
     * XOAUTH2 or OAUTHBEARER: the bearer token taken from the client's response, or null when the response held
     * none that is well formed (verified as such: refused, and counted like any failure).
     */
    record Token(String mechanism, String token) implements Credentials {
        @Override
        public String toString() {
            return "Token[" + mechanism + ", ***]";
        }
    }
}
