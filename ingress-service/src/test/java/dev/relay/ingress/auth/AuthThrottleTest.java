package dev.relay.ingress.auth;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class AuthThrottleTest {

    private static final Duration WINDOW = Duration.ofMinutes(10);

    private final MutableClock clock = MutableClock.now();
    private final AuthThrottle throttle = new AuthThrottle(3, 5, WINDOW, clock, 1000);

    private void fail(int times, String client, String user) {
        for (int i = 0; i < times; i++) {
            throttle.failed(client, user);
        }
    }

    @Test
    void shouldRefuseAClientAddressOnceItReachedItsLimit() {
        fail(2, "192.0.2.1", "a");
        assertThat(throttle.allowed("192.0.2.1", "b")).isTrue();
        throttle.failed("192.0.2.1", "c");
        assertThat(throttle.allowed("192.0.2.1", "d")).isFalse();
    }

    @Test
    void shouldNotRefuseOtherClientAddresses() {
        fail(3, "192.0.2.1", "a");
        assertThat(throttle.allowed("192.0.2.2", "b")).isTrue();
    }

    @Test
    void shouldRefuseAUsernameFromEveryAddressOnceItReachedItsLimit() {
        for (int i = 0; i < 5; i++) {
            throttle.failed("192.0.2." + i, "Victim");
        }
        assertThat(throttle.allowed("198.51.100.7", "victim")).isFalse();
        assertThat(throttle.allowed("198.51.100.7", "other")).isTrue();
    }

    @Test
    void shouldCountUsernamesCaseInsensitively() {
        for (int i = 0; i < 5; i++) {
            throttle.failed("192.0.2." + i, i % 2 == 0 ? "VICTIM" : "victim");
        }
        assertThat(throttle.allowed("198.51.100.7", "Victim")).isFalse();
    }

    @Test
    void shouldForgetFailuresThatLeftTheWindow() {
        fail(2, "192.0.2.1", "a");
        clock.advance(Duration.ofMinutes(6));
        throttle.failed("192.0.2.1", "a");
        assertThat(throttle.allowed("192.0.2.1", "a")).isFalse();
        clock.advance(Duration.ofMinutes(4).plusSeconds(1)); // the first two are now older than the window
        assertThat(throttle.allowed("192.0.2.1", "a")).isTrue();
        fail(1, "192.0.2.1", "a");
        assertThat(throttle.allowed("192.0.2.1", "a")).isTrue(); // 2 in the window
        clock.advance(Duration.ofMinutes(6));
        assertThat(throttle.allowed("192.0.2.1", "a")).isTrue();
    }

    @Test
    void shouldSlideRatherThanResetAtAFixedBoundary() {
        fail(3, "192.0.2.1", "a");
        clock.advance(WINDOW.minusSeconds(1));
        assertThat(throttle.allowed("192.0.2.1", "a")).isFalse();
        clock.advance(Duration.ofSeconds(1));
        assertThat(throttle.allowed("192.0.2.1", "a")).isTrue();
    }

    @Test
    void shouldClearOnlyTheUsernameOnSuccess() {
        fail(5, "192.0.2.9", "victim"); // the client is over its limit (3) too
        throttle.succeeded("192.0.2.9", "victim");
        assertThat(throttle.allowed("198.51.100.7", "victim")).isTrue();
        assertThat(throttle.allowed("192.0.2.9", "someone")).isFalse();
    }

    @Test
    void shouldSkipThePerUserCountForABlankUsername() {
        AuthThrottle lenientClients = new AuthThrottle(100, 2, WINDOW, clock, 1000);
        for (int i = 0; i < 10; i++) {
            lenientClients.failed("192.0.2.1", "");
        }
        assertThat(lenientClients.allowed("192.0.2.1", "")).isTrue();
        assertThat(lenientClients.allowed("192.0.2.1", "anyone")).isTrue();
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedKeyBeyondTheCap() {
        AuthThrottle small = new AuthThrottle(1, 100, WINDOW, clock, 2);
        small.failed("192.0.2.1", "");
        small.failed("192.0.2.2", "");
        assertThat(small.allowed("192.0.2.1", "")).isFalse(); // touches .1: now .2 is the eldest
        small.failed("192.0.2.3", "");
        assertThat(small.allowed("192.0.2.2", "")).isTrue();   // evicted
        assertThat(small.allowed("192.0.2.1", "")).isFalse();
        assertThat(small.allowed("192.0.2.3", "")).isFalse();
    }

    @Test
    void shouldStayBoundedUnderManyDistinctKeys() {
        AuthThrottle small = new AuthThrottle(1, 1, WINDOW, clock, 100);
        for (int i = 0; i < 10_000; i++) {
            small.failed("client-" + i, "user-" + i);
        }
        long refusedClients = java.util.stream.IntStream.range(0, 10_000)
                .filter(i -> !small.allowed("client-" + i, "")).count();
        assertThat(refusedClients).isLessThanOrEqualTo(100);
    }
}
