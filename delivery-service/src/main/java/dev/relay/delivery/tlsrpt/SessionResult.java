package dev.relay.delivery.tlsrpt;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * One record of the TLS-RPT topic, keyed by policy domain: the TLS outcome of one delivery attempt
 * ({@code kind=result}), or the marker that the report of a window was sent ({@code kind=sent}), so that an
 * instance that takes the partition over after a restart does not send it again.
 *
 * @param kind     {@value #RESULT} or {@value #SENT}
 * @param at       epoch milliseconds of the attempt; for a marker, the start of the window it closes
 * @param domain   the policy domain (the recipient domain), lower case
 * @param type     {@code sts}, {@code tlsa} or {@code no-policy-found}
 * @param strings  the policy strings (MTA-STS lines, TLSA records)
 * @param mx       the MX host of the attempt
 * @param ip       the receiving IP, null when no connection was made
 * @param result   {@value #SUCCESS} or an RFC 8460 §4.3 result type
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionResult(String kind, long at, String domain, String type, List<String> strings, String mx,
                            String ip, String result) {

    public static final String RESULT = "result";
    public static final String SENT = "sent";
    public static final String SUCCESS = "success";

    /** A record larger than this is not read (a hostile or broken writer). */
    static final int MAX_RECORD = 64 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public SessionResult {
        strings = strings == null ? List.of() : List.copyOf(strings);
    }

    public static SessionResult sent(String domain, long windowStart) {
        return new SessionResult(SENT, windowStart, domain, null, List.of(), null, null, null);
    }

    public boolean success() {
        return SUCCESS.equals(result);
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The record, or empty when it is not one (too large, not JSON, fields missing). */
    public static Optional<SessionResult> of(byte[] json) {
        if (json == null || json.length > MAX_RECORD) {
            return Optional.empty();
        }
        try {
            SessionResult r = JSON.readValue(json, SessionResult.class);
            boolean valid = r.domain() != null && (SENT.equals(r.kind())
                    || RESULT.equals(r.kind()) && r.type() != null && r.result() != null);
            return valid ? Optional.of(r) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
