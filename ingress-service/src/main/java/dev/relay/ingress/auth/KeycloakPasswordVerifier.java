package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;
import dev.relay.ingress.config.IngressConfig;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Verifies AUTH PLAIN/LOGIN credentials: first as an application's client id and client secret (a
 * client-credentials grant of that client, which must be confidential with a service account), then, when Keycloak
 * does not know such a client or refuses its secret, as a person's username and password (a password grant on the
 * ingress's confidential client). The access token comes straight from Keycloak over this request, so its claims
 * are read without a signature check.
 *
 * <p>Client first (ADR 0017): a failed client authentication costs Keycloak a secret comparison and touches no
 * user's brute-force record, while a failed password grant for a name that happens to be a client id would count
 * against a user of that name. A person's login therefore costs one cheap refused client authentication more.
 * The two grants are one attempt for {@link CredentialVerifier}: one throttle count, one cache entry, one flight.
 *
 * <p>Wrong password, unknown user, disabled user, unknown or disabled client and wrong secret all become
 * {@link AuthResult.Invalid}; anything that is not Keycloak's verdict on the credentials (timeouts, 5xx, a rejected
 * ingress client) is {@link AuthResult.Unavailable}. Never logs the password, the secret or the token.
 */
@ApplicationScoped
public class KeycloakPasswordVerifier {

    private static final Logger LOG = Logger.getLogger(KeycloakPasswordVerifier.class);

    private final WebClient client;
    private final IngressConfig.Keycloak config;
    private final String tokenEndpoint;

    @Inject
    public KeycloakPasswordVerifier(Vertx vertx, IngressConfig config) {
        this(vertx, config.keycloak());
    }

    KeycloakPasswordVerifier(Vertx vertx, IngressConfig.Keycloak keycloak) {
        this.config = keycloak;
        this.client = WebClient.create(vertx, new WebClientOptions()
                .setConnectTimeout((int) this.config.timeout().toMillis())
                .setUserAgent("relay-ingress"));
        this.tokenEndpoint = this.config.url().replaceAll("/+$", "") + "/realms/" + this.config.realm()
                + "/protocol/openid-connect/token";
    }

    public Future<AuthResult> verify(String username, String password) {
        return clientCredentials(username, password)
                .compose(application -> application != null ? Future.succeededFuture(application)
                        : passwordGrant(username, password));
    }

    /**
     * The client-credentials grant of client {@code clientId}: its identity, {@link AuthResult.Unavailable} when
     * Keycloak could not be asked, or null when Keycloak refused the client (unknown, disabled, wrong secret, public,
     * no service account): then the credentials may still be a person's.
     */
    Future<AuthResult> clientCredentials(String clientId, String secret) {
        MultiMap form = MultiMap.caseInsensitiveMultiMap()
                .add("grant_type", "client_credentials")
                .add("client_id", clientId)
                .add("client_secret", secret);
        return client.postAbs(tokenEndpoint)
                .timeout(config.timeout().toMillis())
                .sendForm(form)
                .map(response -> {
                    int status = response.statusCode();
                    if (status == 200) {
                        Identity identity = identity(response.bodyAsJsonObject());
                        // a service account's token names its client; anything else is not an application
                        return identity.isApplication() && clientId.equals(identity.client())
                                ? (AuthResult) new AuthResult.Success(identity) : null;
                    }
                    String error = safeJson(response.bodyAsString()).getString("error", "");
                    if ((status == 400 || status == 401)
                            && ("invalid_client".equals(error) || "unauthorized_client".equals(error))) {
                        return null;
                    }
                    LOG.warnf("Keycloak token endpoint answered %d (%s) to a client-credentials grant; treating AUTH"
                            + " as temporarily unavailable", status, error.isEmpty() ? "no error code" : error);
                    return new AuthResult.Unavailable("keycloak status " + status);
                })
                .otherwise(failure -> {
                    LOG.warnf("Keycloak unreachable for AUTH: %s", failure.toString());
                    return new AuthResult.Unavailable(failure.getClass().getSimpleName());
                });
    }

    private Future<AuthResult> passwordGrant(String username, String password) {
        MultiMap form = MultiMap.caseInsensitiveMultiMap()
                .add("grant_type", "password")
                .add("client_id", config.clientId())
                .add("client_secret", config.clientSecret())
                .add("username", username)
                .add("password", password);
        return client.postAbs(tokenEndpoint)
                .timeout(config.timeout().toMillis())
                .sendForm(form)
                .map(response -> {
                    int status = response.statusCode();
                    if (status == 200) {
                        return (AuthResult) new AuthResult.Success(identity(response.bodyAsJsonObject()));
                    }
                    JsonObject body = safeJson(response.bodyAsString());
                    String description = body.getString("error_description", "");
                    if ("user_temporarily_disabled".equals(body.getString("error"))
                            || description.toLowerCase(java.util.Locale.ROOT).contains("temporarily")) {
                        // Keycloak's brute-force lock: not a verdict on this password; 454, and not counted
                        return new AuthResult.Unavailable("account temporarily locked by Keycloak");
                    }
                    if ((status == 400 || status == 401) && "invalid_grant".equals(body.getString("error"))) {
                        return new AuthResult.Invalid();
                    }
                    LOG.warnf("Keycloak token endpoint answered %d (%s); treating AUTH as temporarily unavailable",
                            status, body.getString("error", "no error code"));
                    return new AuthResult.Unavailable("keycloak status " + status);
                })
                .otherwise(failure -> {
                    LOG.warnf("Keycloak unreachable for AUTH: %s", failure.toString());
                    return new AuthResult.Unavailable(failure.getClass().getSimpleName());
                });
    }

    static Identity identity(JsonObject tokenResponse) {
        return KeycloakClaims.identity(KeycloakClaims.unverifiedPayload(tokenResponse.getString("access_token")));
    }

    private static JsonObject safeJson(String body) {
        try {
            return body == null ? new JsonObject() : new JsonObject(body);
        } catch (RuntimeException e) {
            return new JsonObject();
        }
    }

    @PreDestroy
    void close() {
        client.close();
    }
}
