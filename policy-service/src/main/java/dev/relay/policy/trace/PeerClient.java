package dev.relay.policy.trace;

import com.fasterxml.jackson.databind.JsonNode;
import dev.relay.policy.config.PolicyConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.streams.state.HostInfo;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Asks another policy instance for its part of the trace store: the same API path with {@code scope=local}, with
 * the caller's own bearer token (the other instance checks it exactly as this one did). Bounded in time
 * ({@code relay.policy.trace.peer-timeout}) and size ({@value #MAX_BODY} bytes); called from worker threads only.
 */
@ApplicationScoped
public class PeerClient {

    /** A whole trace is at most max-events of 16 KiB; a page far less. */
    static final int MAX_BODY = 8 * 1024 * 1024;

    /** What a peer answered. */
    public record Answer(int status, JsonNode body) {
    }

    private final HttpClient http;
    private final Duration timeout;

    public PeerClient(PolicyConfig config) {
        this.timeout = config.trace().peerTimeout();
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /**
     * GET {@code http://host:port + pathAndQuery} (which must already carry {@code scope=local}).
     *
     * @throws IOException when the peer cannot be reached, does not answer in time or answers too much
     */
    public Answer get(HostInfo peer, String pathAndQuery, String authorization) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + peer.host() + ":" + peer.port()
                + pathAndQuery)).timeout(timeout).header("Accept", "application/json").GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try {
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                byte[] bytes = body.readNBytes(MAX_BODY + 1);
                if (bytes.length > MAX_BODY) {
                    throw new IOException("policy instance " + peer + " answered more than " + MAX_BODY + " bytes");
                }
                JsonNode json = bytes.length == 0 ? null : TraceCodec.json().readTree(bytes);
                return new Answer(response.statusCode(), json);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking " + peer, e);
        }
    }
}
