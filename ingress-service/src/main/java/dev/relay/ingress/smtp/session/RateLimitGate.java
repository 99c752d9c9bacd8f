package dev.relay.ingress.smtp.session;

import dev.relay.common.rules.Usage;

import java.time.Clock;
import java.time.Instant;

/**
 * What the session needs to apply the rule set's rate limits in the dialogue: the cluster-wide usage as
 * followed from the usage topic (the policy service counts; the ingress only reads) and the time.
 */
public record RateLimitGate(Usage usage, Clock clock) {

    /** No usage known: only limits of 0 could refuse, and the validator forbids those. */
    public static final RateLimitGate NONE = new RateLimitGate(Usage.NONE, Clock.systemUTC());

    public Instant now() {
        return clock.instant();
    }
}
