package dev.relay.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A real Keycloak 26.5.6 server ({@code kc.sh start-dev}) with the {@code relay} realm imported from
 * {@code deploy/keycloak/relay-realm.json} (or the file named by the system property {@code relay.test.realm-file}).
 *
 * <p>The distribution unpacked in {@code <root>/.cache/keycloak-26.5.6} is shared; each instance gets a home directory
 * of its own (its work dir, passed as {@code -Dkc.home.dir}) whose {@code lib}, {@code providers}, {@code conf} and
 * {@code themes} are symbolic links into the distribution and whose {@code data/} (H2 database, import directory,
 * transaction logs) is private. So the test instance (18180) and the local one (8180) run side by side, and the
 * server image is augmented for dev mode only once, not at every start. The H2 database is deleted before every
 * start: each start imports a fresh realm.
 */
public final class KeycloakServer extends LocalServer {

    public static final String KEYCLOAK_VERSION = "26.5.6";
    public static final String REALM = "relay";

    static final Duration START_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static KeycloakServer shared;

    private final Path home;

    private KeycloakServer(Path home, int port, Path pidFile, Path logFile, boolean detached) {
        super(port, pidFile, logFile, detached, STOP_GRACE);
        this.home = home.toAbsolutePath().normalize();
    }

    /**
     * The build-wide test Keycloak on 127.0.0.1:{@code relay.test.keycloak.port} (default 18180): reused if
     * something already listens there, else started detached (it outlives this JVM; {@code ./relay test} stops it)
     * with home {@code <root>/.cache/test-run/keycloak} and pid file {@code <root>/.cache/test-run/keycloak.pid}.
     */
    public static synchronized KeycloakServer shared() {
        if (shared != null && shared.isRunning()) {
            return shared;
        }
        int port = Integer.getInteger("relay.test.keycloak.port", 18180);
        Path runDir = KafkaBroker.testRunDir();
        KeycloakServer server = new KeycloakServer(runDir.resolve("keycloak"), port, runDir.resolve("keycloak.pid"),
                runDir.resolve("keycloak.log"), true);
        server.ensureStarted();
        shared = server;
        return server;
    }

    /** A Keycloak owned by the caller, home (and log, pid file) in {@code workDir}; killed when this JVM exits. */
    public static KeycloakServer start(Path workDir, int port) {
        KeycloakServer server = new KeycloakServer(workDir, port, workDir.resolve("keycloak.pid"),
                workDir.resolve("keycloak.log"), false);
        server.killOnExit("keycloak");
        server.launchLocked();
        return server;
    }

    /** A detached Keycloak for {@code ./relay up}. */
    static KeycloakServer local(Path home, int port, Path pidFile, Path logFile) {
        return new KeycloakServer(home, port, pidFile, logFile, true);
    }

    /** Starts this server unless it already runs (pid file or port); waits until the realm is served. */
    void ensureStarted() {
        Support.withFileLock(startLock(), () -> {
            ManagedProcess running = ManagedProcess.adopt(pidFile, logFile);
            if (running != null || ManagedProcess.isListening("127.0.0.1", port)) {
                process = running;
            } else {
                launch();
            }
            awaitReady();
            return null;
        });
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public String realmUrl() {
        return url() + "/realms/" + REALM;
    }

    public String tokenEndpoint() {
        return realmUrl() + "/protocol/openid-connect/token";
    }

    /** Whether the relay realm's OpenID configuration is served. */
    public boolean isReady() {
        return Support.httpStatus(realmUrl() + "/.well-known/openid-configuration") == 200;
    }

    /** Starts again on the same port and home (stopping first if it runs), with a freshly imported realm. */
    public void restart() {
        if (isRunning()) {
            stop();
        }
        ManagedProcess.awaitFree("127.0.0.1", port, Duration.ofSeconds(10));
        launchLocked();
    }

    /**
     * A resource-owner password grant against the relay realm; returns the raw access token.
     *
     * @param clientSecret may be {@code null} for a public client
     */
    public String passwordGrant(String clientId, String clientSecret, String username, String password) {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "password");
        form.put("client_id", clientId);
        if (clientSecret != null) {
            form.put("client_secret", clientSecret);
        }
        form.put("username", username);
        form.put("password", password);
        form.put("scope", "openid");
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        HttpRequest request = HttpRequest.newBuilder(URI.create(tokenEndpoint())).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        try {
            HttpResponse<String> response = Support.http().send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("password grant for " + username + " via " + clientId + " failed: HTTP "
                        + response.statusCode() + " " + response.body());
            }
            JsonNode token = JSON.readTree(response.body()).get("access_token");
            if (token == null || !token.isTextual()) {
                throw new IllegalStateException("no access_token in " + response.body());
            }
            return token.asText();
        } catch (IOException e) {
            throw new UncheckedIOException("password grant against " + tokenEndpoint() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Logs a user in the way a person does, through Keycloak's login form (authorization code flow with PKCE on a
     * public client with a loopback redirect, e.g. {@code relay-admin-cli}), and returns the access token. For
     * clients without password grants (the admin API's): the form is filled in by this method instead of a
     * browser.
     */
    public String browserLogin(String clientId, String username, String password) {
        try {
            // cookies by hand: Keycloak marks them Secure, which a cookie manager would not send over plain http
            java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                    .followRedirects(java.net.http.HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(10))
                    .build();
            byte[] random = new byte[32];
            new java.security.SecureRandom().nextBytes(random);
            String verifier = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            String challenge = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                    java.security.MessageDigest.getInstance("SHA-256").digest(
                            verifier.getBytes(StandardCharsets.US_ASCII)));
            String redirect = "http://127.0.0.1/callback"; // never opened: the redirect is not followed
            String auth = realmUrl() + "/protocol/openid-connect/auth?response_type=code&scope=openid"
                    + "&client_id=" + enc(clientId) + "&redirect_uri=" + enc(redirect)
                    + "&code_challenge_method=S256&code_challenge=" + challenge;
            HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(auth)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            java.util.regex.Matcher action = java.util.regex.Pattern.compile("action=\"([^\"]+)\"")
                    .matcher(page.body());
            if (page.statusCode() != 200 || !action.find()) {
                throw new IllegalStateException("no login form for " + clientId + ": HTTP " + page.statusCode());
            }
            String formUrl = action.group(1).replace("&amp;", "&");
            String cookies = page.headers().allValues("Set-Cookie").stream().map(c -> c.split(";", 2)[0])
                    .collect(Collectors.joining("; "));
            HttpResponse<String> login = client.send(HttpRequest.newBuilder(URI.create(formUrl))
                    .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", cookies)
                    .POST(HttpRequest.BodyPublishers.ofString("username=" + enc(username) + "&password="
                            + enc(password) + "&credentialId=")).build(), HttpResponse.BodyHandlers.ofString());
            // a realm with organisations asks for the username first, then for the password on a second page
            java.util.regex.Matcher second = java.util.regex.Pattern
                    .compile("id=\"kc-form-login\"[^>]*action=\"([^\"]+)\"").matcher(login.body());
            if (login.statusCode() == 200 && login.body().contains("name=\"password\"") && second.find()) {
                login = client.send(HttpRequest.newBuilder(URI.create(second.group(1).replace("&amp;", "&")))
                        .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", cookies)
                        .POST(HttpRequest.BodyPublishers.ofString("username=" + enc(username) + "&password="
                                + enc(password) + "&credentialId=")).build(), HttpResponse.BodyHandlers.ofString());
            }
            String location = login.headers().firstValue("Location").orElse("");
            java.util.regex.Matcher code = java.util.regex.Pattern.compile("[?&]code=([^&]+)").matcher(location);
            if (!location.startsWith(redirect) || !code.find()) {
                throw new IllegalStateException("login of " + username + " via " + clientId + " failed: HTTP "
                        + login.statusCode());
            }
            String form = "grant_type=authorization_code&client_id=" + enc(clientId) + "&code=" + code.group(1)
                    + "&redirect_uri=" + enc(redirect) + "&code_verifier=" + verifier;
            HttpResponse<String> token = send(HttpRequest.newBuilder(URI.create(tokenEndpoint()))
                    .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build());
            if (token.statusCode() != 200) {
                throw new IllegalStateException("code exchange failed: HTTP " + token.statusCode() + " " + token.body());
            }
            return JSON.readTree(token.body()).get("access_token").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /**
     * A request to the admin REST API of the relay realm ({@code /admin/realms/relay} + {@code path}) as the
     * bootstrap admin of this test server (tests that need users or clients the realm file does not have).
     *
     * @param json the request body, or null
     */
    public HttpResponse<String> admin(String method, String path, String json) {
        String token = adminToken();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url() + "/admin/realms/relay" + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json));
        return send(request.build());
    }

    /** A request with a user's bearer token to {@code path} under the realm URL (e.g. the account API). */
    public HttpResponse<String> asUser(String token, String method, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(realmUrl() + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json));
        return send(request.build());
    }

    private String adminToken() {
        String body = "grant_type=password&client_id=admin-cli&username=admin&password=admin";
        HttpRequest request = HttpRequest.newBuilder(URI.create(url() + "/realms/master/protocol/openid-connect/token"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> response = send(request);
        if (response.statusCode() != 200) {
            throw new IllegalStateException("admin token: HTTP " + response.statusCode() + " " + response.body());
        }
        try {
            return JSON.readTree(response.body()).get("access_token").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return Support.http().send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(request.uri() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    static Path distribution() {
        Path dist = RelayRoot.get().resolve(".cache").resolve("keycloak-" + KEYCLOAK_VERSION);
        if (!Files.isRegularFile(dist.resolve("bin").resolve("kc.sh"))) {
            throw new IllegalStateException("Keycloak is not fetched yet: " + dist + " is missing. Run: mvn -B -q -f"
                    + " relay-testkit/infra/pom.xml generate-resources");
        }
        return dist;
    }

    /** The realm to import: {@code -Drelay.test.realm-file}, else {@code <root>/deploy/keycloak/relay-realm.json}. */
    static Path realmFile() {
        String override = System.getProperty("relay.test.realm-file");
        Path file = override != null && !override.isBlank() ? Path.of(override)
                : RelayRoot.get().resolve("deploy").resolve("keycloak").resolve("relay-realm.json");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("Keycloak realm file " + file + " does not exist (set"
                    + " -Drelay.test.realm-file=... to use another one)");
        }
        return file;
    }

    /**
     * The first start-dev of a freshly unpacked distribution re-augments the shared server image in its lib/: only
     * one instance may start at a time.
     */
    private static Path startLock() {
        return RelayRoot.get().resolve(".cache").resolve("keycloak-start.lock");
    }

    private void launchLocked() {
        Support.withFileLock(startLock(), () -> {
            launch();
            awaitReady();
            return null;
        });
    }

    private void launch() {
        Path dist = distribution();
        Path realm = realmFile();
        try {
            Files.createDirectories(home);
            for (String shared : List.of("lib", "providers", "conf", "themes")) {
                Path link = home.resolve(shared);
                Path target = dist.resolve(shared);
                if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(target)) {
                    continue;
                }
                if (Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                    ManagedProcess.deleteRecursively(link);
                }
                Files.createSymbolicLink(link, target);
            }
            Path data = home.resolve("data");
            ManagedProcess.deleteRecursively(data.resolve("h2"));
            ManagedProcess.deleteRecursively(data.resolve("transaction-logs"));
            Path importDir = data.resolve("import");
            ManagedProcess.deleteRecursively(importDir);
            Files.createDirectories(importDir);
            Files.copy(realm, importDir.resolve("relay-realm.json"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(List.of("bash", dist.resolve("bin").resolve("kc.sh").toString(),
                "start-dev",
                "--http-host=127.0.0.1",
                "--http-port=" + port,
                // the management interface (default 9000) only opens when health or metrics are enabled; keep two
                // instances apart anyway
                "--http-management-port=" + (port + 1000),
                "--import-realm",
                // kc.sh passes -D options to the JVM after its own, so this one wins
                "-Dkc.home.dir=" + home));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"); // dev only
        env.put("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin");
        if (System.getenv("JAVA_OPTS_KC_HEAP") == null) {
            env.put("JAVA_OPTS_KC_HEAP", "-Xms64m -Xmx768m");
        }
        process = ManagedProcess.start("keycloak", cmd, home, env, logFile, pidFile, detached);
    }

    private void awaitReady() {
        ManagedProcess.await("Keycloak realm " + realmUrl(), START_TIMEOUT, process, this::isReady);
    }

    @Override
    public String toString() {
        return "KeycloakServer(" + url() + ", " + home + ")";
    }
}
