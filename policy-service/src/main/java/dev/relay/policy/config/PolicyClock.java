package dev.relay.policy.config;

import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.time.Clock;

/** The time rate-limit windows and held-message due times are measured with; tests may supply their own. */
@Singleton
public class PolicyClock {

    @Produces
    @DefaultBean
    @Singleton
    Clock clock() {
        return Clock.systemUTC();
    }
}
