package dev.relay.common.envelope;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Who submitted a message, as Keycloak vouched for it at AUTH time: a person (password grant or a bearer token of
 * a user) or an application (a confidential client's service account, {@link #client()} set).
 *
 * @param username      the Keycloak username (preferred_username; {@code service-account-<client>} for a client)
 * @param subject       the Keycloak subject id (sub)
 * @param email         the verified email, may be null
 * @param roles         realm roles, e.g. {@code smtp-relay}, and client roles spelled {@code <clientId>:<role>}
 * @param groups        group paths
 * @param senders       extra addresses or {@code @domain} patterns the identity may send as (attribute
 *                      {@code smtp_senders} of the user, or of the application's client)
 * @param client        the client id when the identity is an application's service account, else null
 * @param organizations Keycloak organisations the identity belongs to: alias to the organisation's verified
 *                      domains (lower case); empty when none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Identity(String username, String subject, String email, List<String> roles, List<String> groups,
                       List<String> senders, String client,
                       @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, List<String>> organizations) {

    public Identity {
        roles = roles == null ? List.of() : List.copyOf(roles);
        groups = groups == null ? List.of() : List.copyOf(groups);
        senders = senders == null ? List.of() : List.copyOf(senders);
        organizations = copy(organizations);
    }

    /** A person (or an identity from before applications and organisations were known). */
    public Identity(String username, String subject, String email, List<String> roles, List<String> groups,
                    List<String> senders) {
        this(username, subject, email, roles, groups, senders, null, Map.of());
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }

    /** Whether this is an application (a client's service account) rather than a person. */
    public boolean isApplication() {
        return client != null;
    }

    /** Keycloak sends group paths ({@code /a/b}) or names depending on the mapper: accept both spellings. */
    public boolean inGroup(String group) {
        String path = group.startsWith("/") ? group : "/" + group;
        return groups.stream().anyMatch(g -> g.equals(group) || g.equals(path) || ("/" + g).equals(path));
    }

    /** Whether the identity belongs to the organisation with this alias (case-insensitive). */
    public boolean inOrganization(String alias) {
        return organizations.keySet().stream().anyMatch(a -> a.equalsIgnoreCase(alias));
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> organizations) {
        if (organizations == null || organizations.isEmpty()) {
            return Map.of();
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        organizations.forEach((alias, domains) -> out.put(alias, domains == null ? List.of()
                : domains.stream().map(d -> d.toLowerCase(Locale.ROOT)).toList()));
        return java.util.Collections.unmodifiableMap(out);
    }
}
