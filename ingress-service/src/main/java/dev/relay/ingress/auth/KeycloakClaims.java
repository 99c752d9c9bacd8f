package dev.relay.ingress.auth;

import dev.relay.common.envelope.Identity;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps the claims of a Keycloak access token to an {@link Identity}: {@code preferred_username}, {@code sub},
 * {@code email}, {@code realm_access.roles}, {@code resource_access.<client>.roles} (as {@code <client>:<role>}),
 * {@code groups} and {@code smtp_senders} (the last two from protocol mappers: the relay-ingress client's for
 * people, the application client's own for applications, see deploy/keycloak/README.md), for an application's
 * service account its client id ({@code azp}), and {@code organization} (the aliases of the user's Keycloak
 * organisations, from the realm's {@code organization} client scope: a list of aliases, or an object keyed by alias
 * when the mapper is set to JSON). The one place that knows these names, for password grants, client-credentials
 * grants and bearer tokens alike. Organisations get their verified domains later, from {@link OrganizationDomains}.
 *
 * <p>Sender identities come only from data the user cannot change: {@code smtp_senders} is an admin-only
 * attribute of the realm's user profile, and {@code email} becomes {@link Identity#email()} only when
 * {@code email_verified} is true (the realm's user profile also makes {@code email} admin-editable only; a realm
 * that lets users edit their email must not be trusted with it, see ADR 0003). An unverified email is dropped here,
 * so neither the ingress nor the policy service (which reads the identity from the envelope) can bind to it.
 */
final class KeycloakClaims {

    /** Bound on the organisations taken from one token (a user in more is a configuration problem). */
    static final int MAX_ORGANIZATIONS = 50;

    private KeycloakClaims() {
    }

    /** The prefix Keycloak gives the username of a client's service-account user. */
    static final String SERVICE_ACCOUNT_PREFIX = "service-account-";

    static Identity identity(JsonObject claims) {
        JsonObject realmAccess = claims.getValue("realm_access") instanceof JsonObject access ? access : new JsonObject();
        List<String> roles = strings(realmAccess.getValue("roles"));
        roles.addAll(clientRoles(claims.getValue("resource_access")));
        return new Identity(text(claims.getValue("preferred_username")), text(claims.getValue("sub")),
                verifiedEmail(claims), roles, strings(claims.getValue("groups")),
                strings(claims.getValue("smtp_senders")), applicationClient(claims),
                organizations(claims.getValue("organization")));
    }

    /**
     * The client id when the token is a client's own (client-credentials grant of its service account), else null.
     * Keycloak names the service-account user {@code service-account-<clientId>}, and its client-credentials tokens
     * carry no login session ({@code sid}); the client the token was issued to ({@code azp}) must be the one named.
     * A person's token always has a session, so that a person an admin named {@code service-account-x} who logs in
     * through client {@code x} is still a person. When present, {@code client_id} must agree too.
     */
    static String applicationClient(JsonObject claims) {
        String azp = text(claims.getValue("azp"));
        String username = text(claims.getValue("preferred_username"));
        Object clientId = claims.getValue("client_id");
        if (azp == null || azp.isEmpty() || username == null || claims.containsKey("sid")
                || !username.equals(SERVICE_ACCOUNT_PREFIX + azp.toLowerCase(java.util.Locale.ROOT))
                || (clientId != null && !azp.equals(clientId))) {
            return null;
        }
        return azp;
    }

    /** {@code resource_access: {client: {roles: [..]}}} as {@code client:role}. */
    private static List<String> clientRoles(Object resourceAccess) {
        List<String> out = new ArrayList<>();
        if (resourceAccess instanceof JsonObject byClient) {
            for (String client : byClient.fieldNames()) {
                if (byClient.getValue(client) instanceof JsonObject access) {
                    strings(access.getValue("roles")).forEach(role -> out.add(client + ":" + role));
                }
            }
        }
        return out;
    }

    /** Organisation aliases (at most {@link #MAX_ORGANIZATIONS}), each without domains yet. */
    static Map<String, List<String>> organizations(Object claim) {
        List<String> aliases = claim instanceof JsonObject object ? new ArrayList<>(object.fieldNames())
                : strings(claim);
        Map<String, List<String>> out = new LinkedHashMap<>();
        aliases.stream().filter(a -> !a.isBlank()).limit(MAX_ORGANIZATIONS).forEach(a -> out.put(a, List.of()));
        return out;
    }

    /**
     * The payload of a compact JWS <em>without</em> verifying it. Only for a token that came straight from Keycloak
     * over our own request (the password grant); tokens presented by clients go through {@link KeycloakTokenVerifier}.
     */
    static JsonObject unverifiedPayload(String compactJws) {
        String[] parts = compactJws.split("\\.");
        return new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    }

    private static String verifiedEmail(JsonObject claims) {
        return Boolean.TRUE.equals(claims.getValue("email_verified")) ? text(claims.getValue("email")) : null;
    }

    private static String text(Object value) {
        return value instanceof String s ? s : null;
    }

    private static List<String> strings(Object value) {
        List<String> out = new ArrayList<>();
        if (value instanceof JsonArray array) {
            array.forEach(v -> out.add(String.valueOf(v)));
        } else if (value instanceof String s) {
            out.add(s);
        }
        return out;
    }
}
