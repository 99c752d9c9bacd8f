package dev.relay.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The OAuth 2.0 device authorization grant (RFC 8628) against the test Keycloak, all three parties played here the
 * way they happen for real: the "device" (a mail client or script) asks for a device code, the person opens the
 * verification page and logs in through Keycloak's real HTML pages (form posts, cookies by hand as in
 * {@link KeycloakServer#browserLogin}), and the device polls the token endpoint until Keycloak hands out the
 * token. Used by tests of people who submit mail with XOAUTH2/OAUTHBEARER tokens (public client
 * {@code relay-mail}).
 */
public final class DeviceLogin {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ACTION = Pattern.compile("<form[^>]*action=\"([^\"]+)\"");
    private static final Pattern LOGIN_FORM = Pattern.compile("id=\"kc-form-login\"[^>]*action=\"([^\"]+)\"");
    private static final int MAX_STEPS = 10;

    private final KeycloakServer keycloak;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final Map<String, String> cookies = new LinkedHashMap<>();

    private DeviceLogin(KeycloakServer keycloak) {
        this.keycloak = keycloak;
    }

    /** Runs the whole device flow for this public client and user; returns the access token. */
    public static String accessToken(KeycloakServer keycloak, String clientId, String username, String password) {
        try {
            return new DeviceLogin(keycloak).run(clientId, username, password);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String run(String clientId, String username, String password) throws IOException, InterruptedException {
        // 1. the device asks for a code
        HttpResponse<String> start = post(keycloak.realmUrl() + "/protocol/openid-connect/auth/device",
                "client_id=" + enc(clientId) + "&scope=openid");
        if (start.statusCode() != 200) {
            throw new IllegalStateException("device authorization failed: HTTP " + start.statusCode() + " "
                    + start.body());
        }
        JsonNode grant = JSON.readTree(start.body());
        String deviceCode = grant.get("device_code").asText();
        // 2. the person opens the verification page (user code included) and logs in
        HttpResponse<String> page = follow(get(grant.get("verification_uri_complete").asText()));
        Matcher form = LOGIN_FORM.matcher(page.body());
        if (page.statusCode() != 200 || !form.find()) {
            throw new IllegalStateException("no login form on the device verification page: HTTP " + page.statusCode());
        }
        HttpResponse<String> done = follow(post(unescape(form.group(1)), "username=" + enc(username) + "&password="
                + enc(password) + "&credentialId="));
        // with organisations on, Keycloak asks for the username first and for the password on a second page
        Matcher second = LOGIN_FORM.matcher(done.body());
        if (done.statusCode() == 200 && done.body().contains("name=\"password\"") && second.find()) {
            done = follow(post(unescape(second.group(1)), "username=" + enc(username) + "&password=" + enc(password)
                    + "&credentialId="));
        }
        Matcher consent = ACTION.matcher(done.body());
        if (done.body().contains("name=\"accept\"") && consent.find()) {
            done = follow(post(unescape(consent.group(1)), "accept=Yes"));
        }
        if (done.statusCode() != 200) {
            throw new IllegalStateException("device login of " + username + " failed: HTTP " + done.statusCode());
        }
        // 3. the device polls for the token (it is ready now; a real client waits "interval" between polls)
        HttpResponse<String> token = post(keycloak.tokenEndpoint(),
                "grant_type=" + enc("urn:ietf:params:oauth:grant-type:device_code") + "&client_id=" + enc(clientId)
                        + "&device_code=" + enc(deviceCode));
        if (token.statusCode() != 200) {
            throw new IllegalStateException("device token poll failed: HTTP " + token.statusCode() + " "
                    + token.body());
        }
        return JSON.readTree(token.body()).get("access_token").asText();
    }

    /** Follows redirects within Keycloak (at most {@link #MAX_STEPS}), keeping its cookies. */
    private HttpResponse<String> follow(HttpResponse<String> response) throws IOException, InterruptedException {
        for (int i = 0; i < MAX_STEPS && response.statusCode() / 100 == 3; i++) {
            String location = response.headers().firstValue("Location").orElseThrow();
            response = get(URI.create(keycloak.url()).resolve(location).toString());
        }
        return response;
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    private HttpResponse<String> post(String url, String form) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        // cookies by hand: Keycloak marks them Secure, which a cookie manager would not send over plain http
        if (!cookies.isEmpty()) {
            request.header("Cookie", cookies.entrySet().stream().map(c -> c.getKey() + "=" + c.getValue())
                    .collect(Collectors.joining("; ")));
        }
        HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        for (String header : response.headers().allValues("Set-Cookie")) {
            String pair = header.split(";", 2)[0];
            int eq = pair.indexOf('=');
            if (eq > 0) {
                cookies.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return response;
    }

    /** A form's action as an absolute URL (the consent page's is relative). */
    private String unescape(String action) {
        return URI.create(keycloak.url()).resolve(action.replace("&amp;", "&")).toString();
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
