package dev.relay.common.rules;

import dev.relay.common.envelope.Identity;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Matching shared by the rule checks: who holds a grant, which pattern of a list matches an address. */
final class Grants {

    private Grants() {
    }

    static boolean holds(Identity identity, RuleSet.Grant grant) {
        if (identity == null) {
            return false;
        }
        if (grant.role() != null) {
            return identity.hasRole(grant.role());
        }
        if (grant.group() != null) {
            return identity.inGroup(grant.group());
        }
        return grant.organization() != null && identity.inOrganization(grant.organization());
    }

    /**
     * Whether the identity is selected by a rule's optional role, group and organisation (at most one set, checked
     * by the validator): a rule naming none selects every authenticated identity.
     */
    static boolean selects(Identity identity, String role, String group, String organization) {
        if (identity == null) {
            return false;
        }
        if (role != null) {
            return identity.hasRole(role);
        }
        if (group != null) {
            return identity.inGroup(group);
        }
        return organization == null || identity.inOrganization(organization);
    }

    /** First pattern ({@code local@domain}, {@code @domain} or {@code domain}) matching, as its rule path. */
    static Optional<String> match(List<String> patterns, String path, String addressLower,
                                  String domainLower) {
        for (int i = 0; i < patterns.size(); i++) {
            String p = patterns.get(i).trim().toLowerCase(Locale.ROOT);
            boolean hit = p.indexOf('@') > 0 ? p.equals(addressLower)
                    : (p.startsWith("@") ? p.substring(1) : p).equals(domainLower);
            if (hit) {
                return Optional.of(path + "[" + i + "]");
            }
        }
        return Optional.empty();
    }

    static int indexOfIgnoreCase(List<String> values, String value) {
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i).equalsIgnoreCase(value)) {
                return i;
            }
        }
        return -1;
    }
}
