package dev.relay.ingress.smtp.protocol;

import dev.relay.common.rules.RelayDecision;

/** Every fixed reply the ingress sends, with its RFC 3463 enhanced status code, in one place. */
public final class Replies {

    public static final Reply OK = Reply.of(250, "2.0.0", "Ok");
    public static final Reply SENDER_OK = Reply.of(250, "2.1.0", "Sender ok");
    public static final Reply RECIPIENT_OK = Reply.of(250, "2.1.5", "Recipient ok");
    public static final Reply RESET_OK = Reply.of(250, "2.0.0", "Reset");
    public static final Reply BYE = Reply.of(221, "2.0.0", "Bye");
    public static final Reply START_DATA = Reply.of(354, null, "End data with <CR><LF>.<CR><LF>");
    public static final Reply READY_TO_START_TLS = Reply.of(220, "2.0.0", "Ready to start TLS");
    public static final Reply AUTH_OK = Reply.of(235, "2.7.0", "Authentication successful");
    public static final Reply CANNOT_VRFY = Reply.of(252, "2.5.0",
            "Cannot VRFY user, but will accept message and attempt delivery");
    public static final Reply HELP = Reply.of(214, "2.0.0",
            "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH");

    public static final Reply SHUTTING_DOWN = Reply.of(421, "4.3.2", "Service shutting down, try again later");
    public static final Reply TOO_MANY_ERRORS = Reply.of(421, "4.7.0", "Too many errors, closing connection");
    public static final Reply NOT_READY = Reply.of(421, "4.3.0", "Service temporarily unavailable, try again later");
    public static final Reply TOO_MANY_CONNECTIONS = Reply.of(421, "4.7.0",
            "Too many connections, try again later");
    public static final Reply TOO_MANY_RECIPIENTS = Reply.of(452, "4.5.3", "Too many recipients");
    public static final Reply QUEUE_UNAVAILABLE = Reply.of(451, "4.3.0",
            "Message not accepted: queue temporarily unavailable, try again later");
    public static final Reply AUTH_UNAVAILABLE = Reply.of(454, "4.7.0",
            "Temporary authentication failure, try again later");
    public static final Reply TLS_UNAVAILABLE = Reply.of(454, "4.7.0", "TLS not available");
    public static final Reply NO_MEMORY = Reply.of(452, "4.3.1", "Insufficient system storage, try again later");
    public static final Reply TIMEOUT = Reply.of(421, "4.4.2", "Timeout, closing connection");
    public static final Reply TOO_SLOW = Reply.of(421, "4.4.2", "Data rate too low, closing connection");

    public static final Reply UNKNOWN_COMMAND = Reply.of(500, "5.5.2", "Command not recognized");
    public static final Reply LINE_TOO_LONG = Reply.of(500, "5.5.6", "Line too long");
    public static final Reply BARE_LINE_ENDING = Reply.of(500, "5.5.2",
            "Bare CR or LF not allowed; lines must end with CRLF");
    public static final Reply BARE_LF_CLOSING = Reply.of(500, "5.5.2",
            "Bare LF received; lines must end with CRLF; closing connection");
    public static final Reply HELO_CONTROL_CHARACTERS = Reply.of(501, "5.5.2",
            "Syntax error: control or non-printable characters in the HELO/EHLO name");
    public static final Reply ENDLESS_LINE = Reply.of(500, "5.5.6",
            "Line too long and still not ended; closing connection");
    public static final Reply PIPELINING_FLOOD = Reply.of(421, "4.7.0",
            "Too much pipelined input without reading the replies; closing connection");
    public static final Reply MESSAGE_TOO_SLOW = Reply.of(421, "4.4.2",
            "Message transfer took too long, closing connection");
    public static final Reply NOT_IMPLEMENTED = Reply.of(502, "5.5.1", "Command not implemented");
    public static final Reply BAD_SEQUENCE = Reply.of(503, "5.5.1", "Bad sequence of commands");
    public static final Reply HELO_FIRST = Reply.of(503, "5.5.1", "Send EHLO or HELO first");
    public static final Reply NESTED_MAIL = Reply.of(503, "5.5.1", "Sender already given");
    public static final Reply NEED_MAIL = Reply.of(503, "5.5.1", "Need MAIL command first");
    public static final Reply NEED_RCPT = Reply.of(503, "5.5.1", "Need RCPT before DATA");
    public static final Reply ALREADY_AUTHENTICATED = Reply.of(503, "5.5.1", "Already authenticated");
    public static final Reply AUTH_IN_TRANSACTION = Reply.of(503, "5.5.1", "AUTH not allowed during a transaction");
    public static final Reply TLS_ALREADY_ACTIVE = Reply.of(503, "5.5.1", "TLS already active");
    public static final Reply AUTH_REQUIRED = Reply.of(530, "5.7.0", "Authentication required");
    public static final Reply ENCRYPTION_REQUIRED = Reply.of(538, "5.7.11",
            "Encryption required for requested authentication mechanism");
    public static final Reply UNSUPPORTED_MECHANISM = Reply.of(504, "5.5.4", "Unrecognized authentication mechanism");
    public static final Reply AUTH_CANCELLED = Reply.of(501, "5.7.0", "Authentication cancelled");
    public static final Reply AUTH_MALFORMED = Reply.of(501, "5.5.2", "Malformed authentication response");
    public static final Reply AUTH_FAILED = Reply.of(535, "5.7.8", "Authentication credentials invalid");
    public static final Reply SENDER_NOT_OWNED = Reply.of(553, "5.7.1",
            "Sender address rejected: not owned by the authenticated user");
    public static final Reply NULL_SENDER_NOT_ALLOWED = Reply.of(553, "5.7.1",
            "Null sender <> not allowed for an authenticated user");
    public static final Reply HEADER_FROM_NOT_OWNED = Reply.of(550, "5.7.1",
            "Message refused: From: header address not owned by the authenticated user");
    /** Temporary (4xx), so that a client which does not re-authenticate in the session requeues, not bounces. */
    public static final Reply REAUTHENTICATE = Reply.of(454, "4.7.0",
            "Authentication expired, authenticate again");
    public static final Reply MESSAGE_TOO_BIG = Reply.of(552, "5.3.4", "Message size exceeds fixed limit");
    public static final Reply BAD_DATA_LINE_ENDING = Reply.of(550, "5.5.2",
            "Message refused: bare CR or LF in message content");
    public static final Reply UNSUPPORTED_PARAMETER = Reply.of(555, "5.5.4",
            "MAIL FROM/RCPT TO parameters not recognized or not implemented");
    public static final Reply PIPELINING_VIOLATION = Reply.of(554, "5.5.0",
            "Improper command pipelining: wait for the reply to this command; closing connection");
    public static final Reply TOO_MANY_HOPS = Reply.of(554, "5.4.6", "Too many hops (mail loop?)");
    public static final Reply HEADER_TOO_BIG = Reply.of(552, "5.3.4", "Header section exceeds fixed limit");
    public static final Reply BAD_BDAT_SYNTAX = Reply.of(501, "5.5.4",
            "Syntax: BDAT chunk-size [LAST]; closing connection (the chunk cannot be skipped)");
    public static final Reply MIXED_DATA_BDAT = Reply.of(503, "5.5.1", "DATA not allowed after BDAT");
    public static final Reply NO_VALID_RECIPIENTS = Reply.of(554, "5.5.1", "No valid recipients");

    private Replies() {
    }

    public static Reply syntax(String why) {
        return Reply.of(501, "5.5.4", "Syntax error: " + why);
    }

    public static Reply badAddress(String why) {
        return Reply.of(501, "5.1.3", "Bad address syntax: " + why);
    }

    public static Reply addressRefused(String why) {
        return Reply.of(553, "5.1.3", "Address refused: " + why);
    }

    public static Reply relayDenied(String why) {
        return Reply.of(554, "5.7.1", "Relay access denied: " + why);
    }

    /**
     * A recipient the rules refuse: {@code 550 5.1.1} for a mailbox a local domain does not have, else
     * {@code 554 5.7.1} relay access denied.
     */
    public static Reply recipientRefused(RelayDecision.Deny deny) {
        if (deny.refusal() == RelayDecision.Refusal.UNKNOWN_RECIPIENT) {
            return Reply.of(deny.refusal().code(), deny.refusal().status(),
                    "Recipient address rejected: " + deny.reason());
        }
        return relayDenied(deny.reason());
    }

    public static Reply lineTooLong(int max) {
        return Reply.of(550, "5.6.0", "Message refused: text line longer than " + max + " octets");
    }

    public static Reply chunkReceived(long octets) {
        return Reply.of(250, "2.0.0", octets + " octets received");
    }

    public static Reply queued(String id) {
        return Reply.of(250, "2.0.0", "Ok: queued as " + id);
    }

    /** MAIL while a rate limit's message count for the window is reached (RFC 3463 §3.8: 4.7.1, temporary). */
    public static Reply messageRateLimited(String limit) {
        return Reply.of(450, "4.7.1", capitalised(limit) + ", try again later");
    }

    /** RCPT beyond a rate limit's recipient count for the window (RFC 5321 §4.5.3.1.10: 452, retry later). */
    public static Reply recipientRateLimited(String limit) {
        return Reply.of(452, "4.5.3", capitalised(limit) + ", try again later");
    }

    private static String capitalised(String text) {
        return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
    }
}
