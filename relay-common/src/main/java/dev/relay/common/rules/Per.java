package dev.relay.common.rules;

import java.util.Arrays;
import java.util.Optional;

/**
 * What a count in the usage topic is kept by. The first three are the rate limits of the rule set (messages and
 * recipients, counted by the policy service); the {@code auth-*} kinds are the ingress's AUTH throttle (failed and
 * in-flight AUTH attempts in {@link Count#messages()}, counted by each ingress instance), which reuses the same
 * topic and counting so that the throttle holds across the cluster. Rule sets may only name the rate-limit kinds
 * ({@link #ofRule}).
 */
public enum Per {
    IDENTITY("identity", true), SENDER_DOMAIN("sender-domain", true), CLIENT_ADDRESS("client-address", true),
    AUTH_CLIENT("auth-client", false), AUTH_USER("auth-user", false), AUTH_USER_CLIENT("auth-user-client", false);

    private final String label;
    private final boolean rateLimit;

    Per(String label, boolean rateLimit) {
        this.label = label;
        this.rateLimit = rateLimit;
    }

    public String label() {
        return label;
    }

    /** Any kind, as read from a usage record. */
    public static Optional<Per> of(String label) {
        return Arrays.stream(values()).filter(p -> p.label.equals(label)).findFirst();
    }

    /** Only the kinds a rate-limit rule may name. */
    public static Optional<Per> ofRule(String label) {
        return of(label).filter(p -> p.rateLimit);
    }
}
