package dev.relay.ingress.auth;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The AUTH throttle on the real test Kafka: counts shared through the usage topic, atomically reserved. */
class AuthThrottleTest {

    private static final AuthThrottle.Limits LIMITS = new AuthThrottle.Limits(6, 3, 5);

    private final ThrottleOnKafka kafka = new ThrottleOnKafka();
    private final MutableClock clock = MutableClock.now();

    @AfterEach
    void close() {
        kafka.close();
    }

    private AuthThrottle throttle() {
        return kafka.throttle(LIMITS, clock, List.of("example.test"));
    }

    private static void fail(AuthThrottle throttle, String client, String user) {
        AuthThrottle.Attempt attempt = throttle.reserve(client, user);
        assertThat(attempt).as("attempt for %s from %s admitted", user, client).isNotNull();
        attempt.failed();
    }

    @Test
    void shouldAdmitOnlyTheLimitOfParallelGuessesBecauseAttemptsInFlightCountAsFailures() throws Exception {
        AuthThrottle throttle = throttle();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<AuthThrottle.Attempt>> guesses = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            guesses.add(pool.submit(() -> {
                start.await();
                return throttle.reserve("192.0.2.1", "victim");
            }));
        }
        start.countDown();
        int admitted = 0;
        for (Future<AuthThrottle.Attempt> g : guesses) {
            if (g.get(20, TimeUnit.SECONDS) != null) {
                admitted++;
            }
        }
        pool.shutdown();
        assertThat(admitted).isEqualTo(LIMITS.perUserClient());
    }

    @Test
    void shouldTakeBackTheProvisionalCountOfASuccessAndOfAnUnavailableKeycloak() {
        AuthThrottle throttle = throttle();
        for (int i = 0; i < 10; i++) {
            AuthThrottle.Attempt attempt = throttle.reserve("192.0.2.2", "alice");
            assertThat(attempt).isNotNull();
            if (i % 2 == 0) {
                attempt.succeeded();
            } else {
                attempt.cancelled();
            }
        }
        assertThat(throttle.check("192.0.2.2", "alice")).isEqualTo(AuthThrottle.Verdict.ALLOWED);
        assertThat(throttle.usedBy("192.0.2.2", "alice")).isZero();
    }

    @Test
    void shouldCountAliceAndAliceAtTheRealmDomainInAnyCaseAsOnePrincipal() {
        AuthThrottle throttle = throttle();
        fail(throttle, "192.0.2.3", "alice");
        fail(throttle, "192.0.2.3", "ALICE");
        fail(throttle, "192.0.2.3", "Alice@Example.Test");
        assertThat(throttle.check("192.0.2.3", "alice@example.test")).isEqualTo(AuthThrottle.Verdict.THROTTLED);
        assertThat(throttle.principal("alice@other.example")).isEqualTo("alice@other.example");
    }

    @Test
    void shouldLetTheGlobalCeilingOfAUserAdmitOnlyCachedPasswordsAndOtherUsersAsUsual() {
        AuthThrottle throttle = throttle();
        for (int i = 0; i < LIMITS.perUser(); i++) {
            fail(throttle, "198.51.100." + i, "victim");
        }
        assertThat(throttle.check("203.0.113.9", "victim")).isEqualTo(AuthThrottle.Verdict.CACHED_ONLY);
        assertThat(throttle.reserve("203.0.113.9", "victim")).isNull();
        assertThat(throttle.check("203.0.113.9", "someone-else")).isEqualTo(AuthThrottle.Verdict.ALLOWED);
    }

    @Test
    void shouldRefuseAClientPrefixThatGuessedManyUsers() {
        AuthThrottle throttle = throttle();
        for (int i = 0; i < LIMITS.perClient(); i++) {
            fail(throttle, "2001:db8:1:2::" + (i + 1), "user" + i);
        }
        // another address of the same IPv6 /64
        assertThat(throttle.check("2001:db8:1:2:ffff::1", "fresh")).isEqualTo(AuthThrottle.Verdict.THROTTLED);
        assertThat(throttle.check("2001:db8:1:3::1", "fresh")).isEqualTo(AuthThrottle.Verdict.ALLOWED);
    }

    @Test
    void shouldShareTheCountsOfTwoInstancesThroughTheUsageTopic() {
        AuthThrottle first = throttle();
        AuthThrottle second = throttle();
        fail(first, "192.0.2.4", "bob");
        fail(first, "192.0.2.4", "bob");
        fail(second, "192.0.2.4", "BOB");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(first.check("192.0.2.4", "bob")).isEqualTo(AuthThrottle.Verdict.THROTTLED);
            assertThat(second.check("192.0.2.4", "bob")).isEqualTo(AuthThrottle.Verdict.THROTTLED);
        });
    }

    @Test
    void shouldForgetFailuresWhenTheirWindowHasPassed() {
        AuthThrottle throttle = throttle();
        for (int i = 0; i < LIMITS.perUserClient(); i++) {
            fail(throttle, "192.0.2.5", "carol");
        }
        assertThat(throttle.check("192.0.2.5", "carol")).isEqualTo(AuthThrottle.Verdict.THROTTLED);
        clock.advance(Duration.ofHours(1));
        assertThat(throttle.check("192.0.2.5", "carol")).isEqualTo(AuthThrottle.Verdict.ALLOWED);
    }
}
