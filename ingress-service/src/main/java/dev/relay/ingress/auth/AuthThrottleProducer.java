package dev.relay.ingress.auth;

import dev.relay.common.usage.LimitsConfig;
import dev.relay.common.usage.UsageCounter;
import dev.relay.ingress.config.IngressConfig;
import dev.relay.ingress.rules.LiveUsage;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@link AuthThrottle} on the usage topic of the rate limits: this instance's counts go out under
 * {@link LiveUsage#instance()}, everyone else's come in through {@link LiveUsage}.
 */
@ApplicationScoped
public class AuthThrottleProducer {

    @Produces
    @Singleton
    AuthThrottle throttle(IngressConfig config, LimitsConfig limits, LiveUsage usage,
                          @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        IngressConfig.Auth auth = config.auth();
        UsageCounter counter = new UsageCounter(kafka, limits.usageTopic(), Clock.systemUTC(), usage.instance());
        return new AuthThrottle(new AuthThrottle.Limits(auth.maxFailuresPerClient(), auth.maxFailuresPerUserClient(),
                auth.maxFailuresPerUser()), Clock.systemUTC(), counter, usage, auth.usernameDomains().orElse(List.of()));
    }

    void close(@Disposes AuthThrottle throttle) {
        throttle.close();
    }
}
