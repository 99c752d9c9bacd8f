package dev.relay.delivery.tlsrpt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The RFC 8460 §4.4 report of one window, from the aggregate of the results the topic carried. */
class TlsReportTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long DAY = 86_400_000L;
    private static final long START = 20_000 * DAY;
    private static final List<String> STS = List.of("version: STSv1", "mode: enforce", "mx: mx.example.org",
            "max_age: 86400");

    @Test
    void shouldReportSummaryCountsAndFailureDetailsWithTheRfcFieldNames() throws Exception {
        List<String> cuts = new ArrayList<>();
        WindowAggregate w = new WindowAggregate(START, 10, 10, cuts::add);
        w.add(result("sts", STS, "mx.example.org", "192.0.2.1", "success"));
        w.add(result("sts", STS, "mx.example.org", "192.0.2.1", "success"));
        w.add(result("sts", STS, "mx.example.org", "192.0.2.1", "certificate-expired"));
        w.add(result("sts", STS, "mx.example.org", "192.0.2.1", "certificate-expired"));
        w.add(result("sts", STS, "mx2.example.org", null, "validation-failure"));
        w.add(result("tlsa", List.of("3 1 1 ab"), "mx.example.org", "192.0.2.1", "tlsa-invalid"));

        TlsReport.Built built = TlsReport.build("Relay Ltd", "mailto:ops@relay.test", "relay.test", "example.org",
                START, START + DAY, w.policies("example.org"));
        JsonNode report = JSON.readTree(gunzip(built.gzip()));

        assertThat(report.get("organization-name").asText()).isEqualTo("Relay Ltd");
        assertThat(report.get("contact-info").asText()).isEqualTo("mailto:ops@relay.test");
        assertThat(report.get("report-id").asText()).isEqualTo(built.id()).contains("example.org");
        assertThat(report.get("date-range").get("start-datetime").asText()).isEqualTo("2024-10-04T00:00:00Z");
        assertThat(report.get("date-range").get("end-datetime").asText()).isEqualTo("2024-10-05T00:00:00Z");
        JsonNode sts = report.get("policies").get(0);
        assertThat(sts.get("policy").get("policy-type").asText()).isEqualTo("sts");
        assertThat(sts.get("policy").get("policy-domain").asText()).isEqualTo("example.org");
        assertThat(sts.get("policy").get("policy-string")).hasSize(4);
        assertThat(sts.get("policy").get("mx-host").get(0).asText()).isEqualTo("mx.example.org");
        assertThat(sts.get("summary").get("total-successful-session-count").asLong()).isEqualTo(2);
        assertThat(sts.get("summary").get("total-failure-session-count").asLong()).isEqualTo(3);
        JsonNode expired = sts.get("failure-details").get(0);
        assertThat(expired.get("result-type").asText()).isEqualTo("certificate-expired");
        assertThat(expired.get("receiving-mx-hostname").asText()).isEqualTo("mx.example.org");
        assertThat(expired.get("receiving-ip").asText()).isEqualTo("192.0.2.1");
        assertThat(expired.get("failed-session-count").asLong()).isEqualTo(2);
        assertThat(sts.get("failure-details").get(1).has("receiving-ip")).isFalse();
        JsonNode tlsa = report.get("policies").get(1);
        assertThat(tlsa.get("policy").get("policy-type").asText()).isEqualTo("tlsa");
        assertThat(tlsa.get("summary").get("total-failure-session-count").asLong()).isEqualTo(1);
        assertThat(tlsa.get("failure-details").get(0).get("result-type").asText()).isEqualTo("tlsa-invalid");
        assertThat(cuts).isEmpty();
    }

    @Test
    void shouldBoundDomainsAndFailureDetailsAndCountWhatItCut() throws Exception {
        List<String> cuts = new ArrayList<>();
        WindowAggregate w = new WindowAggregate(START, 1, 1, cuts::add);
        w.add(result("sts", STS, "mx.example.org", "192.0.2.1", "certificate-expired"));
        w.add(result("sts", STS, "mx.example.org", "192.0.2.2", "certificate-expired"));
        w.add(new SessionResult(SessionResult.RESULT, START, "other.example", "no-policy-found", List.of(), "mx",
                null, "success"));

        assertThat(w.domains()).containsExactly("example.org");
        assertThat(cuts).containsExactly("failure-detail", "domain");
        JsonNode report = JSON.readTree(TlsReport.build("Relay", "c", "relay.test", "example.org", START,
                START + DAY, w.policies("example.org")).json());
        JsonNode policy = report.get("policies").get(0);
        assertThat(policy.get("summary").get("total-failure-session-count").asLong())
                .as("a cut detail still counts in the summary").isEqualTo(2);
        assertThat(policy.get("failure-details")).hasSize(1);
        assertThat(policy.get("policy").has("policy-string")).isTrue();
        assertThat(report.get("policies")).hasSize(1);
    }

    @Test
    void shouldReadBackTopicRecordsAndRefuseJunk() {
        SessionResult r = result("sts", STS, "mx.example.org", "192.0.2.1", "success");
        assertThat(SessionResult.of(r.toJson())).contains(r);
        assertThat(SessionResult.of(SessionResult.sent("example.org", START).toJson()).orElseThrow().kind())
                .isEqualTo(SessionResult.SENT);
        assertThat(SessionResult.of("not json".getBytes())).isEmpty();
        assertThat(SessionResult.of("{\"kind\":\"result\"}".getBytes())).isEmpty();
        assertThat(SessionResult.of(new byte[SessionResult.MAX_RECORD + 1])).isEmpty();
    }

    private static SessionResult result(String type, List<String> strings, String mx, String ip, String result) {
        return new SessionResult(SessionResult.RESULT, START + 1000, "example.org", type, strings, mx, ip, result);
    }

    private static byte[] gunzip(byte[] gz) throws Exception {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }
}
