package dev.relay.delivery.probe;

import dev.relay.delivery.config.ProbeConfig;
import dev.relay.testkit.KafkaBroker;
import dev.relay.testkit.KeycloakServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The probe's failures against the real Keycloak and Kafka of the test run (its success through the three
 * services is ProbeIT in e2e-tests): a wrong client secret stops it at the token, an ingress that does not listen
 * at the submission; each is counted once per probe, by stage, and never thrown, so the next probe runs as usual.
 */
class SyntheticProbeTest {

    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static Vertx vertx;
    private static KeycloakServer keycloak;
    private static KafkaBroker kafka;
    private static String topic;

    record Settings(boolean enabled, Duration interval, Duration timeout, String submissionHost, int submissionPort,
                    Optional<String> trustCertificate, Optional<String> tokenUrl, String clientId,
                    Optional<String> clientSecret, String sender) implements ProbeConfig {
    }

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        keycloak = KeycloakServer.shared();
        kafka = KafkaBroker.shared();
        topic = "p-probe-events-" + RUN;
        kafka.createTopics(List.of(topic), 1);
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldCountAWrongClientSecretAsAFailureAtTheTokenEveryTime() throws IOException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SyntheticProbe probe = probe(registry, "not-the-secret", closedPort());

        assertThat(probe.runOnce()).isEqualTo(ProbeMetrics.Stage.TOKEN);
        assertThat(probe.runOnce()).as("the next probe runs as usual").isEqualTo(ProbeMetrics.Stage.TOKEN);

        assertThat(runs(registry, "failure", "token")).isEqualTo(2);
        assertThat(runs(registry, "success", "delivered")).isZero();
        assertThat(registry.get(ProbeMetrics.LAST_SUCCESS).gauge().value()).isZero();
        assertThat(registry.get(ProbeMetrics.LATENCY).timer().count()).isZero();
    }

    @Test
    void shouldCountAnIngressThatDoesNotListenAsAFailureAtTheSubmission() throws IOException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SyntheticProbe probe = probe(registry, "relay-probe-secret", closedPort());

        assertThat(probe.runOnce()).isEqualTo(ProbeMetrics.Stage.SUBMIT);

        assertThat(runs(registry, "failure", "submit")).isEqualTo(1);
        assertThat(runs(registry, "failure", "token")).as("the probe client's token was issued").isZero();
        assertThat(runs(registry, "success", "delivered")).isZero();
    }

    private static SyntheticProbe probe(SimpleMeterRegistry registry, String secret, int submissionPort) {
        Settings settings = new Settings(true, Duration.ofMinutes(1), Duration.ofSeconds(30), "127.0.0.1",
                submissionPort, Optional.empty(), Optional.of(keycloak.tokenEndpoint()), "relay-probe",
                Optional.of(secret), "probe@probe.relay.invalid");
        return new SyntheticProbe(settings, vertx, registry, kafka.bootstrapServers(), topic);
    }

    private static double runs(SimpleMeterRegistry registry, String outcome, String stage) {
        return registry.get(ProbeMetrics.RUNS).tag("outcome", outcome).tag("stage", stage).counter().count();
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
