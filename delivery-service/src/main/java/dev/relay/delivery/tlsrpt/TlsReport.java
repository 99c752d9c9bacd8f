package dev.relay.delivery.tlsrpt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * The RFC 8460 §4.4 JSON report of one policy domain for one window, with the field names of the RFC:
 * {@code organization-name}, {@code date-range} ({@code start-datetime}, {@code end-datetime}),
 * {@code contact-info}, {@code report-id}, {@code policies[]} each with {@code policy} ({@code policy-type},
 * {@code policy-string}, {@code policy-domain}, {@code mx-host} for sts), {@code summary}
 * ({@code total-successful-session-count}, {@code total-failure-session-count}) and {@code failure-details[]}
 * ({@code result-type}, {@code receiving-mx-hostname}, {@code receiving-ip}, {@code failed-session-count}).
 * {@code sending-mta-ip} is left out: the SMTP client does not record its local address. Pure.
 */
public final class TlsReport {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param id the report-id, unique per domain and window
     */
    public record Built(String id, String domain, Instant start, Instant end, byte[] json) {

        /** The report gzipped, as {@code application/tlsrpt+gzip} carries it. */
        public byte[] gzip() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write(json);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        }
    }

    private TlsReport() {
    }

    public static Built build(String organization, String contact, String submitterHost, String domain,
                              long windowStart, long windowEnd, Map<WindowAggregate.Policy,
            WindowAggregate.Counts> policies) {
        Instant start = Instant.ofEpochMilli(windowStart).truncatedTo(ChronoUnit.SECONDS);
        Instant end = Instant.ofEpochMilli(windowEnd).truncatedTo(ChronoUnit.SECONDS);
        String id = start + "_" + domain + "@" + submitterHost;
        ObjectNode report = JSON.createObjectNode();
        report.put("organization-name", organization);
        ObjectNode range = report.putObject("date-range");
        range.put("start-datetime", start.toString());
        range.put("end-datetime", end.toString());
        report.put("contact-info", contact);
        report.put("report-id", id);
        ArrayNode list = report.putArray("policies");
        for (Map.Entry<WindowAggregate.Policy, WindowAggregate.Counts> e : policies.entrySet()) {
            ObjectNode item = list.addObject();
            ObjectNode policy = item.putObject("policy");
            policy.put("policy-type", e.getKey().type());
            if (!e.getKey().strings().isEmpty()) {
                ArrayNode strings = policy.putArray("policy-string");
                e.getKey().strings().forEach(strings::add);
            }
            policy.put("policy-domain", domain);
            if (e.getKey().type().equals("sts")) {
                ArrayNode mx = JSON.createArrayNode();
                e.getKey().strings().stream().filter(s -> s.startsWith("mx: ")).map(s -> s.substring(4))
                        .forEach(mx::add);
                if (!mx.isEmpty()) {
                    policy.set("mx-host", mx);
                }
            }
            ObjectNode summary = item.putObject("summary");
            summary.put("total-successful-session-count", e.getValue().successes());
            summary.put("total-failure-session-count", e.getValue().failures());
            if (!e.getValue().details().isEmpty()) {
                ArrayNode details = item.putArray("failure-details");
                e.getValue().details().forEach((failure, count) -> {
                    ObjectNode d = details.addObject();
                    d.put("result-type", failure.resultType());
                    if (failure.mx() != null) {
                        d.put("receiving-mx-hostname", failure.mx());
                    }
                    if (failure.ip() != null) {
                        d.put("receiving-ip", failure.ip());
                    }
                    d.put("failed-session-count", count);
                });
            }
        }
        try {
            return new Built(id, domain, start, end, JSON.writeValueAsBytes(report));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
