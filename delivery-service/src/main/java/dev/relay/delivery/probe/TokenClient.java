package dev.relay.delivery.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) against Keycloak's token endpoint, blocking, for the
 * probe's own thread. Bounded: connect and answer within {@code timeout}, at most {@link #MAX_BODY} bytes read.
 */
final class TokenClient {

    static final int MAX_BODY = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final URI tokenUrl;
    private final String clientId;
    private final String clientSecret;
    private final Duration timeout;

    TokenClient(URI tokenUrl, String clientId, String clientSecret, Duration timeout) {
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.tokenUrl = tokenUrl;
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.timeout = timeout;
    }

    /** An access token, or a {@link ProbeFailure} of stage TOKEN saying why not. */
    String token() throws ProbeFailure, InterruptedException {
        String form = "grant_type=client_credentials&client_id=" + enc(clientId) + "&client_secret="
                + enc(clientSecret);
        HttpRequest request = HttpRequest.newBuilder(tokenUrl).timeout(timeout)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            byte[] body;
            try (InputStream in = response.body()) {
                body = in.readNBytes(MAX_BODY + 1);
            }
            if (body.length > MAX_BODY) {
                throw new ProbeFailure(ProbeMetrics.Stage.TOKEN, "token answer larger than " + MAX_BODY + " bytes");
            }
            if (response.statusCode() != 200) {
                throw new ProbeFailure(ProbeMetrics.Stage.TOKEN, "token endpoint answered HTTP "
                        + response.statusCode());
            }
            JsonNode token = JSON.readTree(body).path("access_token");
            if (!token.isTextual() || token.asText().isEmpty()) {
                throw new ProbeFailure(ProbeMetrics.Stage.TOKEN, "token answer without access_token");
            }
            return token.asText();
        } catch (IOException e) {
            throw new ProbeFailure(ProbeMetrics.Stage.TOKEN, "token request failed: " + e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
