package dev.relay.delivery.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/**
 * Everything under {@code relay.probe}: the synthetic probe (docs/adr/0022), run by the delivery service when
 * enabled. Every key can be overridden by its environment variable ({@code RELAY_PROBE_ENABLED}).
 */
@ConfigMapping(prefix = "relay.probe")
public interface ProbeConfig {

    /** Off by default: a probe needs a Keycloak client of its own ({@code relay-probe}). */
    @WithDefault("false")
    boolean enabled();

    /** Pause between the end of one probe and the start of the next (one probe in flight at most). */
    @WithDefault("1m")
    Duration interval();

    /**
     * How long one probe may take from the token request to the {@code delivered} event; past it the probe
     * counts as failed (stage {@code timeout}) and the next one starts after the interval.
     */
    @WithDefault("2m")
    Duration timeout();

    /** The public submission listener the probe submits to, as applications do. */
    @WithDefault("localhost")
    String submissionHost();

    @WithDefault("587")
    int submissionPort();

    /**
     * PEM file of the certificate (or its CA) the submission listener presents; unset: the JVM's trust store.
     * The probe never trusts blindly.
     */
    Optional<String> trustCertificate();

    /** Keycloak's token endpoint ({@code .../realms/relay/protocol/openid-connect/token}); required when enabled. */
    Optional<String> tokenUrl();

    @WithDefault("relay-probe")
    String clientId();

    /** The probe client's secret (Secret {@code relay-keycloak-clients}, key {@code relay-probe}). */
    Optional<String> clientSecret();

    /** The envelope sender; the probe client's {@code smtp_senders} must allow it. */
    @WithDefault("probe@probe.relay.invalid")
    String sender();
}
