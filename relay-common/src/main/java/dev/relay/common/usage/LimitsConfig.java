package dev.relay.common.usage;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Shared rate-limit keys {@code relay.limits.*}, read by the ingress (follows usage) and policy (counts). */
@ConfigMapping(prefix = "relay.limits")
public interface LimitsConfig {

    /** The compacted topic of per-instance usage counts ({@link UsageRecord}). */
    @WithDefault("relay.usage.v1")
    String usageTopic();
}
