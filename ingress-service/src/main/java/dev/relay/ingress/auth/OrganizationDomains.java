package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;
import dev.relay.ingress.config.IngressConfig;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Fills in the verified domains of the Keycloak organisations an identity belongs to. Membership comes from the
 * token ({@code organization} claim, {@link KeycloakClaims}); the domains do not (Keycloak's organisation mapper
 * names aliases and attributes only), so they are read with the admin API: one list of all organisations
 * ({@code GET /admin/realms/<realm>/organizations?briefRepresentation=false}) as a confidential client's service
 * account, shared by every AUTH until {@code relay.ingress.organizations.refresh} (ADR 0018).
 *
 * <p>Only domains with {@code "verified": true} of enabled organisations count; everything else is dropped here, so
 * an unverified domain never becomes a sender. The list is bounded ({@code max-organizations}, domains per
 * organisation {@link #MAX_DOMAINS}); fetches are coalesced and run on the Vert.x WebClient (no event loop blocks).
 * When Keycloak cannot be asked, the last list keeps serving; without any list an identity that belongs to an
 * organisation gets {@link AuthResult.Unavailable} (454 4.7.0: try later) rather than an identity without its
 * senders. Identities without organisations never wait for this.
 */
@ApplicationScoped
public class OrganizationDomains {

    private static final Logger LOG = Logger.getLogger(OrganizationDomains.class);
    static final int MAX_DOMAINS = 100;
    private static final Pattern DOMAIN = Pattern.compile(
            "(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+");
    private static final long TOKEN_MARGIN_MILLIS = 30_000;

    private final WebClient client;
    private final IngressConfig.Keycloak keycloak;
    private final IngressConfig.Organizations settings;
    private final String tokenEndpoint;
    private final String organizationsUrl;
    private final Clock clock;
    private final AtomicLong fetches = new AtomicLong();

    /** Guarded by this. */
    private Map<String, List<String>> domainsByAlias;
    private long fetchedAt;
    private Future<Map<String, List<String>>> inFlight;
    private String accessToken;
    private long accessTokenValidUntil;

    @Inject
    public OrganizationDomains(Vertx vertx, IngressConfig config) {
        this(vertx, config.keycloak(), config.organizations(), Clock.systemUTC());
    }

    OrganizationDomains(Vertx vertx, IngressConfig.Keycloak keycloak, IngressConfig.Organizations settings,
                        Clock clock) {
        this.keycloak = keycloak;
        this.settings = settings;
        this.clock = clock;
        this.client = WebClient.create(vertx, new WebClientOptions()
                .setConnectTimeout((int) keycloak.timeout().toMillis())
                .setUserAgent("relay-ingress"));
        String base = keycloak.url().replaceAll("/+$", "");
        this.tokenEndpoint = base + "/realms/" + keycloak.realm() + "/protocol/openid-connect/token";
        this.organizationsUrl = base + "/admin/realms/" + keycloak.realm() + "/organizations";
    }

    /**
     * The result with its identity's organisations mapped to their verified domains; anything but a success, and a
     * success without organisations, unchanged.
     */
    public Future<AuthResult> complete(AuthResult result) {
        if (!(result instanceof AuthResult.Success success) || success.identity().organizations().isEmpty()) {
            return Future.succeededFuture(result);
        }
        if (!settings.enabled()) {
            return Future.succeededFuture(result); // not configured: membership only, no domains
        }
        return current().map(domains -> (AuthResult) new AuthResult.Success(
                        withDomains(success.identity(), domains), success.validUntil()))
                .otherwise(failure -> {
                    LOG.warnf("Keycloak organisations unavailable for AUTH: %s", failure.toString());
                    return new AuthResult.Unavailable("organizations " + failure.getClass().getSimpleName());
                });
    }

    /** How many times the organisation list was requested (tests of the cache). */
    long fetches() {
        return fetches.get();
    }

    static Identity withDomains(Identity identity, Map<String, List<String>> domainsByAlias) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        identity.organizations().keySet().forEach(alias ->
                out.put(alias, domainsByAlias.getOrDefault(alias.toLowerCase(Locale.ROOT), List.of())));
        return new Identity(identity.username(), identity.subject(), identity.email(), identity.roles(),
                identity.groups(), identity.senders(), identity.client(), out);
    }

    private Future<Map<String, List<String>>> current() {
        Map<String, List<String>> cached;
        synchronized (this) {
            cached = domainsByAlias;
            if (cached != null && clock.millis() - fetchedAt < settings.refresh().toMillis()) {
                return Future.succeededFuture(cached);
            }
        }
        Future<Map<String, List<String>>> fresh = fetch();
        return cached == null ? fresh : fresh.otherwise(failure -> cached); // stale beats none
    }

    private synchronized Future<Map<String, List<String>>> fetch() {
        if (inFlight != null) {
            return inFlight;
        }
        fetches.incrementAndGet();
        Promise<Map<String, List<String>>> promise = Promise.promise();
        inFlight = promise.future();
        token().compose(this::list).onComplete(done -> {
            synchronized (this) {
                inFlight = null;
                if (done.succeeded()) {
                    domainsByAlias = done.result();
                    fetchedAt = clock.millis();
                }
            }
            promise.handle(done);
        });
        return promise.future();
    }

    private Future<String> token() {
        synchronized (this) {
            if (accessToken != null && clock.millis() < accessTokenValidUntil) {
                return Future.succeededFuture(accessToken);
            }
        }
        MultiMap form = MultiMap.caseInsensitiveMultiMap()
                .add("grant_type", "client_credentials")
                .add("client_id", settings.clientId())
                .add("client_secret", settings.clientSecret());
        return client.postAbs(tokenEndpoint).timeout(keycloak.timeout().toMillis()).sendForm(form).map(response -> {
            if (response.statusCode() != 200) {
                throw new IllegalStateException("organizations client: token status " + response.statusCode());
            }
            JsonObject body = response.bodyAsJsonObject();
            String token = body.getString("access_token");
            long lifetime = body.getLong("expires_in", 60L) * 1000;
            synchronized (this) {
                accessToken = token;
                accessTokenValidUntil = clock.millis() + Math.max(0, lifetime - TOKEN_MARGIN_MILLIS);
            }
            return token;
        });
    }

    private Future<Map<String, List<String>>> list(String token) {
        int max = settings.maxOrganizations();
        return client.getAbs(organizationsUrl)
                .addQueryParam("briefRepresentation", "false")
                .addQueryParam("first", "0")
                .addQueryParam("max", String.valueOf(max))
                .bearerTokenAuthentication(token)
                .timeout(keycloak.timeout().toMillis())
                .send()
                .map(response -> {
                    if (response.statusCode() != 200) {
                        if (response.statusCode() == 401 || response.statusCode() == 403) {
                            synchronized (this) {
                                accessToken = null; // perhaps revoked or missing the role: get a new one next time
                            }
                        }
                        throw new IllegalStateException("organizations status " + response.statusCode());
                    }
                    JsonArray array = response.bodyAsJsonArray();
                    if (array.size() >= max) {
                        LOG.warnf("Keycloak lists %d organisations or more; only the first %d give senders "
                                + "(relay.ingress.organizations.max-organizations)", max, max);
                    }
                    return parse(array, max);
                });
    }

    /** Alias (lower case) to verified domains of each enabled organisation in the admin API's list. */
    static Map<String, List<String>> parse(JsonArray organizations, int max) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (int i = 0; i < organizations.size() && out.size() < max; i++) {
            if (!(organizations.getValue(i) instanceof JsonObject org) || !Boolean.TRUE.equals(org.getValue("enabled"))
                    || !(org.getValue("alias") instanceof String alias)) {
                continue;
            }
            List<String> domains = new ArrayList<>();
            if (org.getValue("domains") instanceof JsonArray list) {
                for (int d = 0; d < list.size() && domains.size() < MAX_DOMAINS; d++) {
                    if (list.getValue(d) instanceof JsonObject domain && Boolean.TRUE.equals(domain.getValue("verified"))
                            && domain.getValue("name") instanceof String name) {
                        String lower = name.trim().toLowerCase(Locale.ROOT);
                        if (DOMAIN.matcher(lower).matches()) {
                            domains.add(lower);
                        }
                    }
                }
            }
            out.put(alias.toLowerCase(Locale.ROOT), List.copyOf(domains));
        }
        return Map.copyOf(out);
    }

    @PreDestroy
    void close() {
        client.close();
    }
}
