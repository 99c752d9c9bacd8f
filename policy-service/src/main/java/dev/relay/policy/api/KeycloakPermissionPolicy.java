package dev.relay.policy.api;

import io.quarkus.oidc.AccessTokenCredential;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpSecurityPolicy;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.keycloak.authorization.client.AuthorizationDeniedException;
import org.keycloak.authorization.client.AuthzClient;
import org.keycloak.authorization.client.Configuration;
import org.keycloak.representations.idm.authorization.AuthorizationRequest;

import java.util.Map;

/**
 * Who may use the admin API is Keycloak's decision: Authorization Services of the client {@code relay-policy}
 * (resource {@code relay-rules}, its permission, by default the role policy "realm role relay-admin"). Applied
 * to the admin paths only ({@code quarkus.http.auth.permission.rules-api}); for each request the caller's access
 * token asks Keycloak for that permission (UMA grant, through the Keycloak authorization client that
 * quarkus-keycloak-authorization brings). No token: 401; not granted: 403; Keycloak unreachable: the request
 * fails (500), nothing changes.
 *
 * <p>Why not the extension's own policy enforcer: it is a global HTTP policy that cannot be built while Keycloak
 * is unreachable, so every request, health and metrics included, failed until Keycloak answered (docs/adr/0004).
 */
@ApplicationScoped
public class KeycloakPermissionPolicy implements HttpSecurityPolicy {

    public static final String NAME = "relay-rules-permission";
    private static final Logger LOG = Logger.getLogger(KeycloakPermissionPolicy.class);

    private final String authServerUrl;
    private final String clientId;
    private final String secret;
    private final String resource;
    private volatile AuthzClient client;

    public KeycloakPermissionPolicy(@ConfigProperty(name = "quarkus.oidc.auth-server-url") String authServerUrl,
                                    @ConfigProperty(name = "quarkus.oidc.client-id") String clientId,
                                    @ConfigProperty(name = "quarkus.oidc.credentials.secret") String secret,
                                    @ConfigProperty(name = "relay.policy.admin-resource", defaultValue = "relay-rules")
                                    String resource) {
        this.authServerUrl = authServerUrl;
        this.clientId = clientId;
        this.secret = secret;
        this.resource = resource;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Uni<CheckResult> checkPermission(RoutingContext request, Uni<SecurityIdentity> identity,
                                            AuthorizationRequestContext context) {
        return context.runBlocking(request, identity, (rc, who) -> decide(who));
    }

    private CheckResult decide(SecurityIdentity identity) {
        AccessTokenCredential token = identity.isAnonymous() ? null
                : identity.getCredential(AccessTokenCredential.class);
        if (token == null) {
            return CheckResult.DENY; // anonymous: Quarkus answers with the bearer challenge (401)
        }
        AuthorizationRequest permission = new AuthorizationRequest();
        permission.addPermission(resource);
        try {
            client().authorization(token.getToken()).authorize(permission);
            return CheckResult.PERMIT;
        } catch (AuthorizationDeniedException e) {
            LOG.infof("admin API refused to %s: no Keycloak permission on %s", identity.getPrincipal().getName(),
                    resource);
            return CheckResult.DENY;
        }
    }

    /** Built on first use, not at start-up: mail processing and health never wait for Keycloak. */
    private AuthzClient client() {
        AuthzClient c = client;
        if (c == null) {
            int realms = authServerUrl.lastIndexOf("/realms/");
            c = AuthzClient.create(new Configuration(authServerUrl.substring(0, realms),
                    authServerUrl.substring(realms + "/realms/".length()), clientId, Map.of("secret", secret), null));
            client = c;
        }
        return c;
    }
}
