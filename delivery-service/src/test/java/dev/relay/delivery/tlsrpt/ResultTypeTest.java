package dev.relay.delivery.tlsrpt;

import dev.relay.delivery.outcome.DeliveryStatus;
import dev.relay.delivery.outcome.Diagnostic;
import dev.relay.delivery.outcome.MtaStsCheck;
import dev.relay.delivery.outcome.Phase;
import dev.relay.delivery.outcome.RecipientResult;
import dev.relay.delivery.outcome.RemoteHost;
import dev.relay.delivery.outcome.TlsDecision;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** RFC 8460 §4.3 result types from the results of an attempt. */
class ResultTypeTest {

    private static final TlsDecision STS = new TlsDecision("verify", "mta-sts", null, "mx.example.org", "sts",
            List.of("version: STSv1"));
    private static final TlsDecision DANE = new TlsDecision("dane", "dane", "verified", "mx.example.org", "tlsa",
            List.of("3 1 1 ab"));
    private static final RemoteHost MX = new RemoteHost("mx.example.org", "192.0.2.1", 25);

    @Test
    void aTlsSessionIsASuccessWhateverTheServerReplied() {
        RecipientResult r = new RecipientResult("a@example.org", DeliveryStatus.PERMANENT,
                Diagnostic.ours(Phase.RCPT, 550, "5.1.1", "no such user"), MX, "TLSv1.3", "TLS_AES_128_GCM_SHA256")
                .withTlsDecision(STS);
        assertThat(ResultType.of(r)).contains("success");
    }

    @Test
    void failuresGetTheirResultType() {
        assertThat(ResultType.of(failed("TLS handshake failed: PKIX path building failed", STS)))
                .contains("certificate-not-trusted");
        assertThat(ResultType.of(failed("TLS handshake failed: NotAfter: certificate expired", STS)))
                .contains("certificate-expired");
        assertThat(ResultType.of(failed("TLS handshake failed: No subject alternative DNS name matching x", STS)))
                .contains("certificate-host-mismatch");
        assertThat(ResultType.of(failed("STARTTLS not offered, TLS policy VERIFY", STS)))
                .contains("starttls-not-supported");
        assertThat(ResultType.of(failed("MTA-STS policy of example.org: no MX host matches the policy", STS)))
                .contains("validation-failure");
        assertThat(ResultType.of(failed("DANE: no TLSA record matches the certificate of mx.example.org", DANE)))
                .contains("tlsa-invalid");
        assertThat(ResultType.of(failed("DANE: TLSA lookup for mx.example.org failed (SERVFAIL)", DANE)))
                .contains("dnssec-invalid");
        RecipientResult fetch = new RecipientResult("a@example.org", DeliveryStatus.TRANSIENT,
                Diagnostic.ours(Phase.CONNECT, 451, "4.4.1", "connection refused"), null)
                .withMtaSts(new MtaStsCheck("none", "fetch-failed")).withTlsDecision(STS);
        assertThat(ResultType.of(fetch)).contains("sts-policy-fetch-error");
    }

    @Test
    void noTlsSessionNoResult() {
        assertThat(ResultType.of(failed("connection refused", STS))).isEmpty();
        assertThat(ResultType.of(failed("TLS handshake failed: x", null))).as("no decision").isEmpty();
    }

    private static RecipientResult failed(String why, TlsDecision decision) {
        return new RecipientResult("a@example.org", DeliveryStatus.TRANSIENT,
                Diagnostic.ours(Phase.CONNECT, 451, "4.4.1", why), null).withTlsDecision(decision);
    }
}
