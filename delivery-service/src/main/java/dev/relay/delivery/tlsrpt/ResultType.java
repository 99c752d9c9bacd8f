package dev.relay.delivery.tlsrpt;

import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.outcome.TlsDecision;

import java.util.Locale;
import java.util.Optional;

/**
 * What TLS-RPT says about one attempt (RFC 8460 §4.3): {@value SessionResult#SUCCESS} when a TLS session was
 * established (whatever the server then replied), else the result type of the failure, judged from the decision
 * and the reason the SMTP client and the TLS policy gave. An attempt that failed for reasons that are not TLS
 * (connection refused, timeouts before STARTTLS, DNS of the MX) is no TLS session: empty. Pure.
 */
public final class ResultType {

    private ResultType() {
    }

    public static Optional<String> of(RecipientResult r) {
        TlsDecision decision = r.tlsDecision();
        if (decision == null || "none".equals(decision.policy())) {
            return Optional.empty();
        }
        if (r.mtaSts() != null && "testing".equals(r.mtaSts().mode()) && "fail".equals(r.mtaSts().result())) {
            return Optional.of("validation-failure"); // testing: delivered, but enforce would have failed
        }
        if (r.tlsProtocol() != null) {
            return Optional.of(SessionResult.SUCCESS);
        }
        if (r.mtaSts() != null && "fetch-failed".equals(r.mtaSts().result()) && r.peer() == null) {
            return Optional.of("sts-policy-fetch-error");
        }
        String why = r.detail().toLowerCase(Locale.ROOT);
        if (why.contains("dane: tlsa lookup")) {
            return Optional.of("dnssec-invalid");
        }
        if (why.contains("dane-only")) {
            return Optional.of("dane-required");
        }
        if (why.contains("no tlsa record matches")) {
            return Optional.of("tlsa-invalid");
        }
        if (why.contains("starttls")) {
            return Optional.of("starttls-not-supported");
        }
        if (why.contains("no mx host matches")) {
            return Optional.of("validation-failure");
        }
        if (why.contains("tls handshake") || why.contains("certificate")) {
            return Optional.of(handshake(why));
        }
        if (r.peer() != null && r.mtaSts() != null && "fetch-failed".equals(r.mtaSts().result())) {
            return Optional.of("sts-policy-fetch-error");
        }
        if (r.peer() != null && !"4.4.5".equals(r.diagnostic().enhancedStatus())) {
            return Optional.of("starttls-not-supported"); // the server answered, in plain text
        }
        return Optional.empty();
    }

    /** A failed handshake or certificate check: which RFC 8460 §4.3.2 type its message points to. */
    private static String handshake(String why) {
        if (why.contains("expired") || why.contains("not yet valid")) {
            return "certificate-expired";
        }
        if (why.contains("subject alternative") || why.contains("no name matching") || why.contains("hostname")
                || why.contains("does not match") || why.contains("doesn't match")) {
            return "certificate-host-mismatch";
        }
        if (why.contains("pkix") || why.contains("certification path") || why.contains("not trusted")
                || why.contains("self-signed") || why.contains("self signed")) {
            return "certificate-not-trusted";
        }
        return "validation-failure";
    }
}
