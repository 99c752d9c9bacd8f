package dev.relay.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every environment variable on a container is a configuration key that its service really reads — derived from
 * the service's application.properties and its @ConfigMapping interfaces (see {@link ServiceModule}), not from a
 * hand-kept list — so a renamed key or a typo fails here instead of being silently ignored in the cluster.
 */
class EnvironmentKeysTest {

    /**
     * Known gap, visible on purpose: the ingress builds its Kafka producer from kafka.bootstrap.servers alone
     * (KafkaInboundPublisher), so these client settings do not reach it yet and it cannot authenticate to the
     * SCRAM listener. The manifests already carry them; {@link #shouldStillNeedTheIngressKafkaException()} fails
     * as soon as the ingress passes kafka.* through, so that this exception is removed then.
     */
    static List<String> overlays() {
        return ManifestStructureTest.overlays();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldSetOnlyKeysTheServicesRead(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        for (Deployment d : r.all(Deployment.class)) {
            String name = d.getMetadata().getName();
            ServiceModule module = ServiceModule.of(name);
            for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
                assertThat(c.getEnvFrom()).as(name + ": envFrom hides which keys are set").isNullOrEmpty();
                for (EnvVar env : c.getEnv()) {
                    assertThat(module.keyOf(env.getName()))
                            .as("%s: %s sets no configuration key that %s reads", overlay, env.getName(), module.dir.getFileName())
                            .isPresent();
                }
            }
        }
    }

    @Test
    void shouldDeriveTheDocumentedKeysFromTheSources() {
        ServiceModule ingress = ServiceModule.of("relay-ingress");
        assertThat(ingress.keys).containsKeys("relay.ingress.tls.cert-file", "relay.ingress.keycloak.client-secret",
                "relay.ingress.smtp.submissions-port", "relay.rules.local-domains", "kafka.bootstrap.servers",
                "quarkus.http.port");
        assertThat(ingress.keys.get("relay.ingress.publish.topic")).isEqualTo("relay.inbound.v1");
        assertThat(ingress.keyOf("RELAY_INGRESS_TLS_GENERATE_DEV_CERTIFICATE")).isPresent();
        assertThat(ingress.keyOf("RELAY_INGRESS_TLS_CERT_PATH")).isEmpty();
        ServiceModule delivery = ServiceModule.of("relay-delivery");
        assertThat(delivery.keys).containsEntry("relay.delivery.data-timeout", "10m").containsKey("relay.delivery.dns.servers");
        assertThat(delivery.keyPrefixes).contains("relay.delivery.routes");
        assertThat(delivery.keyOf("KAFKA_SASL_JAAS_CONFIG")).isPresent();
        assertThat(ServiceModule.of("relay-policy").keys).containsEntry("relay.policy.topics.inbound", "relay.inbound.v1");
    }

    @Test
    void shouldPassKafkaClientPropertiesToTheIngressProducer() {
        assertThat(ServiceModule.of("relay-ingress").passesKafkaClientProperties())
                .as("the ingress producer must take every kafka.* property (security settings in the cluster)")
                .isTrue();
        assertThat(ServiceModule.of("relay-ingress").keyOf("KAFKA_SASL_JAAS_CONFIG")).isPresent();
    }
}
