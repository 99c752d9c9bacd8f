package dev.relay.common.envelope;

import java.util.List;

/**
 * Who submitted a message, as Keycloak vouched for it at AUTH time.
 *
 * @param username  the Keycloak username (preferred_username)
 * @param subject   the Keycloak subject id (sub)
 * @param email     the user's email, may be null
 * @param roles     realm roles, e.g. {@code smtp-relay}
 * @param groups    group paths
 * @param senders   extra addresses or {@code @domain} patterns the user may send as (attribute {@code smtp_senders})
 */
public record Identity(String username, String subject, String email, List<String> roles, List<String> groups,
                       List<String> senders) {

    public Identity {
        roles = roles == null ? List.of() : List.copyOf(roles);
        groups = groups == null ? List.of() : List.copyOf(groups);
        senders = senders == null ? List.of() : List.copyOf(senders);
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }

    /** Keycloak sends group paths ({@code /a/b}) or names depending on the mapper: accept both spellings. */
    public boolean inGroup(String group) {
        String path = group.startsWith("/") ? group : "/" + group;
        return groups.stream().anyMatch(g -> g.equals(group) || g.equals(path) || ("/" + g).equals(path));
    }
}
