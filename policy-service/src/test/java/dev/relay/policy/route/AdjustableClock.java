package dev.relay.policy.route;

import jakarta.inject.Singleton;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The policy's clock in tests: real UTC time plus an offset that a test may move forward (never back), so a
 * rate-limit window can end in a second instead of a minute. Replaces {@link dev.relay.policy.config.PolicyClock}'s default bean.
 */
@Singleton
public class AdjustableClock extends Clock {

    private volatile Duration offset = Duration.ZERO;

    public void advance(Duration by) {
        offset = offset.plus(by);
    }

    /** Moves forward to the next time whose second-of-minute is {@code second} (mid-window, away from edges). */
    public void advanceToSecondOfMinute(int second) {
        Instant now = instant();
        long minuteStart = now.toEpochMilli() / 60_000 * 60_000;
        Instant target = Instant.ofEpochMilli(minuteStart + second * 1000L);
        if (!target.isAfter(now)) {
            target = target.plusSeconds(60);
        }
        advance(Duration.between(now, target));
    }

    @Override
    public Instant instant() {
        return Instant.now().plus(offset);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("UTC only");
    }
}
