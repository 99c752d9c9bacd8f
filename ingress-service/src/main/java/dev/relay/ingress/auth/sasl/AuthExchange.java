package dev.relay.ingress.auth.sasl;

import dev.relay.ingress.smtp.protocol.Command;
import dev.relay.ingress.smtp.protocol.Replies;
import dev.relay.ingress.smtp.protocol.Reply;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * One SASL exchange (RFC 4954) for PLAIN, LOGIN (passwords, checked with Keycloak) and XOAUTH2 / OAUTHBEARER
 * (RFC 7628; a Keycloak access token, verified locally). Knows the steps of each mechanism, down to the bearer token
 * inside a token mechanism's response; the SMTP session owns the result. Every method returns what to send, or the
 * credentials to verify, or a refusal (which counts as an error).
 */
public final class AuthExchange {

    /** What the exchange needs next. */
    public sealed interface Step {
        record Challenge(Reply reply) implements Step {
        }

        record Verify(Credentials credentials) implements Step {
        }

        record Refuse(Reply reply) implements Step {
        }
    }

    /** base64 of {"status":"invalid_token","schemes":"bearer"}: the RFC 7628 §3.2.2 error challenge. */
    private static final String TOKEN_ERROR = Base64.getEncoder().encodeToString(
            "{\"status\":\"invalid_token\",\"schemes\":\"bearer\"}".getBytes(StandardCharsets.US_ASCII));

    private enum Expecting { NOTHING, PLAIN, LOGIN_USER, LOGIN_PASSWORD, TOKEN, TOKEN_ERROR_ACK }

    private Expecting expecting = Expecting.NOTHING;
    private String mechanism;
    private String loginUser;

    public static final String MECHANISMS = "PLAIN LOGIN XOAUTH2 OAUTHBEARER";

    public boolean awaitingResponse() {
        return expecting != Expecting.NOTHING;
    }

    public Step start(Command.Auth auth) {
        mechanism = auth.mechanism();
        byte[] initial = auth.initialResponse() == null ? null
                : auth.initialResponse().getBytes(StandardCharsets.US_ASCII);
        return switch (mechanism) {
            case "PLAIN" -> initial == null ? challenge(Expecting.PLAIN, "") : plain(initial);
            case "LOGIN" -> initial == null ? challenge(Expecting.LOGIN_USER, "VXNlcm5hbWU6") : loginUser(initial);
            case "XOAUTH2", "OAUTHBEARER" -> initial == null ? challenge(Expecting.TOKEN, "") : token(initial);
            default -> new Step.Refuse(Replies.UNSUPPORTED_MECHANISM);
        };
    }

    public Step respond(byte[] line) {
        Expecting was = expecting;
        expecting = Expecting.NOTHING;
        if (was == Expecting.TOKEN_ERROR_ACK) {
            return new Step.Refuse(Replies.AUTH_FAILED); // whatever the client answered to the error challenge
        }
        if (SaslDecoding.isCancel(line)) {
            return new Step.Refuse(Replies.AUTH_CANCELLED);
        }
        return switch (was) {
            case PLAIN -> plain(line);
            case LOGIN_USER -> loginUser(line);
            case LOGIN_PASSWORD -> loginPassword(line);
            case TOKEN -> token(line);
            default -> new Step.Refuse(Replies.BAD_SEQUENCE);
        };
    }

    /** A token was refused: RFC 7628 wants an error challenge first, and the 535 after the client's reply. */
    public Step tokenRefused() {
        expecting = Expecting.TOKEN_ERROR_ACK;
        return new Step.Challenge(Reply.of(334, null, TOKEN_ERROR));
    }

    public boolean tokenMechanism() {
        return "XOAUTH2".equals(mechanism) || "OAUTHBEARER".equals(mechanism);
    }

    private Step challenge(Expecting next, String text) {
        expecting = next;
        return new Step.Challenge(Reply.of(334, null, text));
    }

    private Step plain(byte[] line) {
        String decoded = SaslDecoding.decode(line);
        String[] parts = decoded == null ? new String[0] : decoded.split("\u0000", -1);
        if (parts.length != 3 || parts[1].isEmpty()) {
            return new Step.Refuse(Replies.AUTH_MALFORMED);
        }
        if (!parts[0].isEmpty() && !parts[0].equals(parts[1])) {
            return new Step.Refuse(Replies.AUTH_FAILED); // no proxy authorization
        }
        return new Step.Verify(new Credentials.Password("PLAIN", parts[1], parts[2]));
    }

    private Step loginUser(byte[] line) {
        String user = SaslDecoding.decode(line);
        if (user == null || user.isEmpty()) {
            return new Step.Refuse(Replies.AUTH_MALFORMED);
        }
        loginUser = user;
        return challenge(Expecting.LOGIN_PASSWORD, "UGFzc3dvcmQ6");
    }

    private Step loginPassword(byte[] line) {
        String password = SaslDecoding.decode(line);
        String user = loginUser;
        loginUser = null;
        return password == null ? new Step.Refuse(Replies.AUTH_MALFORMED)
                : new Step.Verify(new Credentials.Password("LOGIN", user, password));
    }

    private Step token(byte[] line) {
        byte[] decoded = SaslDecoding.decodeBytes(line);
        if (decoded == null || decoded.length == 0) {
            return new Step.Refuse(Replies.AUTH_MALFORMED);
        }
        // a payload without a well-formed bearer token is still verified (as no token): refused, and counted
        String token = mechanism.equals("XOAUTH2") ? SaslBearerParser.xoauth2Token(decoded)
                : SaslBearerParser.oauthbearerToken(decoded);
        return new Step.Verify(new Credentials.Token(mechanism, token));
    }
}
