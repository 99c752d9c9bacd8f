package dev.relay.ingress.smtp.session;

import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

/**
 * The one table of gates: which commands need a greeting, TLS or authentication first. Kept apart from the handlers
 * so that the order of the gates can be read in one place.
 */
final class CommandGate {

    private CommandGate() {
    }

    /** The refusal, or null when the command may proceed to its handler. */
    static Reply refusal(Command command, SessionState s) {
        String verb = command.verb();
        boolean greeted = s.heloName != null;
        switch (verb) {
            case "MAIL", "RCPT", "DATA", "BDAT" -> {
                if (!greeted) {
                    return Replies.HELO_FIRST;
                }
                if (verb.equals("MAIL") && s.identity != null && System.currentTimeMillis() >= s.identityValidUntil) {
                    s.identity = null; // the credential's lifetime passed: re-verify by authenticating again
                    return Replies.REAUTHENTICATE;
                }
                if (verb.equals("MAIL") && s.listener.authRequired() && s.identity == null) {
                    return Replies.AUTH_REQUIRED;
                }
            }
            case "AUTH" -> {
                if (!greeted) {
                    return Replies.HELO_FIRST;
                }
                if (!s.tls) {
                    return Replies.ENCRYPTION_REQUIRED;
                }
                if (s.identity != null) {
                    return Replies.ALREADY_AUTHENTICATED;
                }
                if (s.transaction != null) {
                    return Replies.AUTH_IN_TRANSACTION;
                }
            }
            case "STARTTLS" -> {
                if (s.tls) {
                    return Replies.TLS_ALREADY_ACTIVE;
                }
                if (!s.settings.tlsAvailable()) {
                    return Replies.TLS_UNAVAILABLE;
                }
            }
            default -> {
            }
        }
        return null;
    }
}
