package dev.relay.delivery.auth;

/**
 * A credential a route names cannot be used now (no such directory, a file missing, unreadable or malformed).
 * The message names the credential and the file, never a file's content. The hop is deferred ({@code 4.7.0}),
 * not bounced: the operator can mount the Secret and the next attempt goes through.
 */
public final class CredentialUnavailableException extends RuntimeException {

    public CredentialUnavailableException(String name, String why) {
        super("credential " + name + " not available: " + why, null, false, false);
    }
}
