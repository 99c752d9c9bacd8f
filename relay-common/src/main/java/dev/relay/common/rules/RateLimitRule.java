package dev.relay.common.rules;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One entry of the rule set's {@code rateLimits} section: how many messages and recipients one identity, one
 * sender domain or one client address may send per UTC minute, hour and day, cluster-wide.
 *
 * <pre>{@code
 * {"name": "per-user", "per": "identity", "roles": ["apps"], "groups": [], "organizations": ["demo-team"],
 *  "messages": {"minute": 10, "hour": 200, "day": 1000}, "recipients": {"hour": 2000}}
 * }</pre>
 *
 * @param name       unique in the rule set; named in SMTP replies, events and metric tags
 * @param per        {@code identity}, {@code sender-domain} or {@code client-address} ({@link Per})
 * @param roles      applies only to identities holding one of these realm roles; with {@code groups} and
 *                   {@code organizations} empty too: to everyone (the unauthenticated included, except for
 *                   {@code per: identity})
 * @param groups     applies only to members of one of these groups
 * @param organizations applies only to members of one of these Keycloak organisations (alias); with
 *                   {@code per: identity} each member is counted on its own, with {@code per: sender-domain} per
 *                   domain: a per-organisation limit is a rule naming the organisation
 * @param messages   messages per window; absent windows are unlimited
 * @param recipients recipients per window, summed over messages
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RateLimitRule(String name, String per, List<String> roles, List<String> groups,
                            @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> organizations, Quota messages,
                            Quota recipients) {

    public RateLimitRule {
        roles = list(roles);
        groups = list(groups);
        organizations = list(organizations);
        messages = messages == null ? Quota.NONE : messages;
        recipients = recipients == null ? Quota.NONE : recipients;
    }

    /** A rule that selects by roles and groups only (no organisations). */
    public RateLimitRule(String name, String per, List<String> roles, List<String> groups, Quota messages,
                         Quota recipients) {
        this(name, per, roles, groups, null, messages, recipients);
    }

    /** A count per fixed UTC window; null = no limit for that window. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Quota(Long minute, Long hour, Long day) {
        public static final Quota NONE = new Quota(null, null, null);

        public Long of(Window window) {
            return switch (window) {
                case MINUTE -> minute;
                case HOUR -> hour;
                case DAY -> day;
            };
        }

        @JsonIgnore
        public boolean isEmpty() {
            return minute == null && hour == null && day == null;
        }
    }

    private static <T> List<T> list(List<T> in) {
        return in == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(in));
    }
}
