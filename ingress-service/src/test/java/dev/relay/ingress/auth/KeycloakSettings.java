package dev.relay.ingress.auth;

import dev.relay.ingress.config.IngressConfig;

import java.time.Duration;
import java.util.Optional;

/** {@link IngressConfig.Keycloak} for verifiers built by hand: the relay realm at {@code url}. */
record KeycloakSettings(String url, Duration timeout, Optional<String> issuer, Duration applicationTokenMaxAge)
        implements IngressConfig.Keycloak {

    static KeycloakSettings at(String url) {
        return new KeycloakSettings(url, Duration.ofSeconds(2), Optional.empty(), Duration.ofMinutes(5));
    }

    KeycloakSettings withIssuer(String expected) {
        return new KeycloakSettings(url, timeout, Optional.of(expected), applicationTokenMaxAge);
    }

    KeycloakSettings withTimeout(Duration value) {
        return new KeycloakSettings(url, value, issuer, applicationTokenMaxAge);
    }

    KeycloakSettings withApplicationTokenMaxAge(Duration value) {
        return new KeycloakSettings(url, timeout, issuer, value);
    }

    @Override
    public String realm() {
        return "relay";
    }

    @Override
    public String clientId() {
        return "relay-ingress";
    }

    @Override
    public String clientSecret() {
        return "relay-ingress-dev-secret";
    }

    @Override
    public String audience() {
        return "relay-ingress";
    }

    @Override
    public java.util.List<String> authorizedParties() {
        return java.util.List.of("relay-ingress");
    }
}
