package dev.relay.delivery.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.relay.common.envelope.Envelope;
import dev.relay.common.envelope.EnvelopeCodec;
import dev.relay.common.envelope.Route;
import dev.relay.common.kafka.Topics;
import dev.relay.testkit.RelayInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * TLS-RPT through the running delivery service, the real Kafka broker and real DNS, HTTPS and SMTP peers
 * ({@link TlsRptWorld}): three deliveries (an MTA-STS enforce pass, an MTA-STS failure, a DANE failure) are
 * recorded on the TLS-RPT topic, aggregated over a short window, and when it closes each domain's RFC 8460 report
 * is POSTed gzipped to its HTTPS rua, and the enforced domain's also goes by mail (a record on the outbound topic,
 * from the report sender, {@code multipart/report; report-type="tlsrpt"}).
 */
@QuarkusTest
@QuarkusTestResource(value = RelayInfraResource.class, initArgs = @ResourceArg(name = "keycloak", value = "false"))
@QuarkusTestResource(value = TlsRptWorld.class, restrictToAnnotatedClass = true)
class TlsRptKafkaDeliveryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(150);

    private static KafkaTestClient kafka;

    @TestHTTPResource("/q/metrics")
    URL metrics;

    @BeforeAll
    static void start() {
        kafka = new KafkaTestClient(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void reportsOfAPassAnMtaStsFailureAndADaneFailureReachTheirRuas() throws Exception {
        Path posts = Path.of(ConfigProvider.getConfig().getValue(TlsRptWorld.POSTS_KEY, String.class));
        try (KafkaTestClient.Tail outbound = kafka.tail(TlsRptWorld.TOPIC);
             KafkaTestClient.Tail tlsrpt = kafka.tail(TlsRptWorld.TLSRPT_TOPIC)) {
            kafka.send(outbound(newId(), "bob@" + TlsRptWorld.ENFORCED));
            kafka.send(outbound(newId(), "bob@" + TlsRptWorld.MISMATCHED));
            kafka.send(outbound(newId(), "bob@" + TlsRptWorld.DANE_BAD));

            JsonNode enforced = await().atMost(WAIT).until(() -> report(posts, TlsRptWorld.ENFORCED), r -> r != null);
            JsonNode policy = enforced.get("policies").get(0);
            assertThat(enforced.get("organization-name").asText()).isEqualTo("Relay Test");
            assertThat(enforced.get("contact-info").asText()).isEqualTo(TlsRptWorld.SENDER);
            assertThat(enforced.get("date-range").get("start-datetime").asText()).endsWith("Z");
            assertThat(policy.get("policy").get("policy-type").asText()).isEqualTo("sts");
            assertThat(policy.get("policy").get("policy-domain").asText()).isEqualTo(TlsRptWorld.ENFORCED);
            assertThat(policy.get("policy").get("policy-string").toString()).contains("mode: enforce");
            assertThat(policy.get("summary").get("total-successful-session-count").asLong()).isGreaterThanOrEqualTo(1);
            assertThat(policy.get("summary").get("total-failure-session-count").asLong()).isZero();

            JsonNode mismatched = await().atMost(WAIT).until(() -> report(posts, TlsRptWorld.MISMATCHED),
                    r -> r != null);
            JsonNode stsFailure = mismatched.get("policies").get(0);
            assertThat(stsFailure.get("policy").get("policy-type").asText()).isEqualTo("sts");
            assertThat(stsFailure.get("summary").get("total-failure-session-count").asLong())
                    .isGreaterThanOrEqualTo(1);
            assertThat(stsFailure.get("failure-details").get(0).get("result-type").asText())
                    .isEqualTo("validation-failure");

            JsonNode dane = await().atMost(WAIT).until(() -> report(posts, TlsRptWorld.DANE_BAD), r -> r != null);
            JsonNode tlsa = dane.get("policies").get(0);
            assertThat(tlsa.get("policy").get("policy-type").asText()).isEqualTo("tlsa");
            assertThat(tlsa.get("policy").get("policy-string").get(0).asText()).startsWith("3 1 1 0000");
            JsonNode detail = tlsa.get("failure-details").get(0);
            assertThat(detail.get("result-type").asText()).isEqualTo("tlsa-invalid");
            assertThat(detail.get("receiving-mx-hostname").asText()).isEqualTo("mx." + TlsRptWorld.DANE_BAD);
            assertThat(detail.get("failed-session-count").asLong()).isGreaterThanOrEqualTo(1);

            ConsumerRecord<String, byte[]> mail = await().atMost(WAIT).until(() -> reportMail(outbound),
                    r -> r != null);
            Envelope envelope = EnvelopeCodec.decode(mail.headers().lastHeader(Topics.ENVELOPE_HEADER).value());
            assertThat(envelope.mailFrom()).isEqualTo(TlsRptWorld.SENDER);
            assertThat(envelope.identity()).as("never sent as a user").isNull();
            assertThat(envelope.recipients()).containsExactly("tls-reports@" + TlsRptWorld.REPORTS);
            String message = new String(mail.value(), StandardCharsets.US_ASCII);
            assertThat(message).contains("TLS-Report-Domain: " + TlsRptWorld.ENFORCED + "\r\n")
                    .contains("TLS-Report-Submitter: Relay Test\r\n")
                    .contains("Subject: Report Domain: " + TlsRptWorld.ENFORCED + " Submitter: Relay Test Report-ID: <")
                    .contains("Content-Type: multipart/report; report-type=\"tlsrpt\"")
                    .contains("Content-Type: application/tlsrpt+gzip");
            JsonNode attached = JSON.readTree(gunzip(attachment(message)));
            assertThat(attached.get("policies").get(0).get("policy").get("policy-domain").asText())
                    .isEqualTo(TlsRptWorld.ENFORCED);

            // the results went through the topic, keyed by domain, and each sent report left its marker there
            for (String domain : List.of(TlsRptWorld.ENFORCED, TlsRptWorld.MISMATCHED, TlsRptWorld.DANE_BAD)) {
                List<String> kinds = await().atMost(WAIT).until(() -> kinds(tlsrpt, domain),
                        k -> k.contains("sent"));
                assertThat(kinds).contains("result");
            }
        }
        assertThat(get(metrics)).contains("relay_delivery_tlsrpt_reports_total{result=\"sent\"}")
                .contains("relay_delivery_tlsrpt_results_total{result=\"tlsa-invalid\"}")
                .contains("relay_delivery_tlsrpt_results_total{result=\"success\"}");
    }

    /** The first report POSTed about {@code domain}, gunzipped, or null. */
    private static JsonNode report(Path posts, String domain) throws IOException {
        List<Path> types;
        try (Stream<Path> files = Files.list(posts)) {
            types = files.filter(p -> p.getFileName().toString().endsWith(".type")).sorted().toList();
        }
        for (Path type : types) {
            String meta = Files.readString(type);
            assertThat(meta).isEqualTo(TlsRptWorld.RUA_HOST + " /tlsrpt application/tlsrpt+gzip");
            String name = type.getFileName().toString();
            byte[] body = Files.readAllBytes(type.resolveSibling(name.substring(0, name.length() - 5) + ".body"));
            JsonNode report = JSON.readTree(gunzip(body));
            if (report.get("policies").get(0).get("policy").get("policy-domain").asText().equals(domain)) {
                return report;
            }
        }
        return null;
    }

    private static List<String> kinds(KafkaTestClient.Tail tlsrpt, String domain) throws IOException {
        List<String> kinds = new java.util.ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : tlsrpt.withKey(domain)) {
            kinds.add(JSON.readTree(r.value()).get("kind").asText());
        }
        return kinds;
    }

    private static ConsumerRecord<String, byte[]> reportMail(KafkaTestClient.Tail outbound) {
        for (ConsumerRecord<String, byte[]> r : outbound.withKeyPrefix("")) {
            Header header = r.headers().lastHeader(Topics.ENVELOPE_HEADER);
            if (header != null && TlsRptWorld.SENDER.equals(EnvelopeCodec.decode(header.value()).mailFrom())) {
                return r;
            }
        }
        return null;
    }

    private static byte[] attachment(String message) {
        int start = message.indexOf("Content-Disposition: attachment");
        int body = message.indexOf("\r\n\r\n", start) + 4;
        int end = message.indexOf("\r\n--", body);
        return Base64.getMimeDecoder().decode(message.substring(body, end));
    }

    private static byte[] gunzip(byte[] gz) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** From the null sender: a record given up on makes no DSN. */
    private static ProducerRecord<String, byte[]> outbound(String id, String rcpt) {
        String domain = rcpt.substring(rcpt.indexOf('@') + 1);
        byte[] body = ("Subject: tlsrpt " + id + "\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII);
        Route route = Route.mx(domain);
        Envelope envelope = new Envelope(Envelope.VERSION, id, System.currentTimeMillis(), "192.0.2.10",
                "client.test", "submission", true, null, "", List.of(rcpt), false, "7BIT", body.length, route, 0);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(TlsRptWorld.TOPIC, id + ":" + route.hopKey(),
                body);
        record.headers().add(Topics.ENVELOPE_HEADER, EnvelopeCodec.encode(envelope));
        return record;
    }

    private static String get(URL url) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(url.toString())).build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    private static String newId() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    }
}
