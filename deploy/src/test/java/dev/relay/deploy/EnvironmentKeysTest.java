package dev.relay.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every environment variable on a container is a configuration key that its service really reads — derived from
 * the service's application.properties and its @ConfigMapping interfaces (see {@link ServiceModule}), not from a
 * hand-kept list — so a renamed key or a typo fails here instead of being silently ignored in the cluster. The
 * variables of the image and its launcher (JAVA_OPTS_APPEND, JAVA_MAX_MEM_RATIO, ...) are allowed too.
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
        assertThat(SemanticChecks.envKeys(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @Test
    void shouldRejectAMisspeltKeyButAcceptTheVariablesOfTheImage() {
        Manifests dev = Manifests.of("dev");
        SemanticChecksTest.assertNewProblem(dev, SemanticChecks::envKeys,
                m -> SemanticChecksTest.setEnv(m, "relay-ingress", "RELAY_INGRESS_KEYCLOAK_ISSUR", "x"),
                "Deployment relay-ingress env RELAY_INGRESS_KEYCLOAK_ISSUR: sets no configuration key that ingress-service reads");
        SemanticChecksTest.assertNewProblem(dev, SemanticChecks::envKeys,
                m -> SemanticChecksTest.container(m, "relay-policy").putArray("envFrom").addObject().putObject("configMapRef")
                        .put("name", "x"), "envFrom hides which keys are set");
        // a helper variable counts only when another variable of the container references it as $(NAME)
        SemanticChecksTest.assertNewProblem(dev, SemanticChecks::envKeys,
                m -> SemanticChecksTest.setEnv(m, "relay-policy", "POD_NAME", "x"),
                "Deployment relay-policy env POD_NAME: sets no configuration key that policy-service reads");
        List<String> before = SemanticChecks.envKeys(dev);
        assertThat(SemanticChecks.envKeys(dev.doctored(m -> {
            SemanticChecksTest.setEnv(m, "relay-delivery", "JAVA_OPTS_APPEND", "-XX:MaxRAMPercentage=70");
            SemanticChecksTest.setEnv(m, "relay-delivery", "JAVA_MAX_MEM_RATIO", "70");
            SemanticChecksTest.setEnv(m, "relay-delivery", "RELAY_INGRESS_KEYCLOAK_ISSUER", "x");
        }))).as("JVM variables pass; a key of another service does not").hasSize(before.size() + 1);
        assertThat(ServiceModule.of("relay-delivery").imageJavaOptsAppend()).contains("-XX:TieredStopAtLevel=1");
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
