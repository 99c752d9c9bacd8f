package dev.relay.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every document of every rendered overlay is valid against the real schema of its apiVersion and kind (the CRDs of
 * the operator versions deploy/README.md names, the Kubernetes 1.32 OpenAPI v3 documents), with unknown fields as
 * errors; and the validator rejects what the API server rejects (the negative cases below).
 */
class SchemaValidationTest {

    static List<String> overlays() {
        return ManifestStructureTest.overlays();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldValidateEveryRenderedDocumentStrictlyAgainstItsSchema(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        List<String> errors = new ArrayList<>();
        for (ObjectNode document : r.documents) {
            errors.addAll(SchemaCatalog.repository().validate(document));
        }
        assertThat(errors).as("%s: schema violations", overlay).isEmpty();
    }

    @Test
    void shouldKnowBothStrimziVersionsAndEveryOperatorKindTheManifestsUse() {
        SchemaCatalog catalog = SchemaCatalog.repository();
        for (String kind : List.of("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser")) {
            assertThat(catalog.schemas("kafka.strimzi.io/v1", kind)).extracting(SchemaCatalog.Entry::source)
                    .containsExactlyInAnyOrder("strimzi-0.49.1", "strimzi-1.2.0");
        }
        for (String type : List.of("keda.sh/v1alpha1/ScaledObject", "keda.sh/v1alpha1/TriggerAuthentication",
                "k8s.keycloak.org/v2alpha1/Keycloak", "k8s.keycloak.org/v2alpha1/KeycloakRealmImport",
                "monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PodMonitor",
                "monitoring.coreos.com/v1/PrometheusRule", "cert-manager.io/v1/Certificate", "cert-manager.io/v1/Issuer",
                "cert-manager.io/v1/ClusterIssuer", "v1/Service", "v1/ConfigMap", "v1/Secret", "v1/Namespace",
                "v1/PersistentVolumeClaim", "apps/v1/Deployment", "apps/v1/StatefulSet",
                "autoscaling/v2/HorizontalPodAutoscaler", "policy/v1/PodDisruptionBudget",
                "networking.k8s.io/v1/NetworkPolicy", "networking.k8s.io/v1/Ingress")) {
            int cut = type.lastIndexOf('/');
            assertThat(catalog.schemas(type.substring(0, cut), type.substring(cut + 1))).as(type).isNotEmpty();
        }
    }

    // ---- the validator can fail: small documents the API server refuses ----

    @Test
    void shouldRejectKafkaResourcesOnAV1KafkaInBothStrimziVersions() {
        List<String> errors = validate("""
                apiVersion: kafka.strimzi.io/v1
                kind: Kafka
                metadata: {name: k}
                spec:
                  kafka:
                    listeners: [{name: tls, port: 9093, type: internal, tls: true}]
                    resources: {requests: {memory: 1Gi}}
                """);
        assertThat(errors).anyMatch(e -> e.contains("[strimzi-1.2.0] spec.kafka.resources: unknown field"))
                .anyMatch(e -> e.contains("[strimzi-0.49.1] spec.kafka.resources: unknown field"));
    }

    @Test
    void shouldRejectAMisspeltDeploymentFieldDeepInThePodTemplate() {
        List<String> errors = validate(deployment("imagePullPolicy: IfNotPresent\n          imagePullPolcy: Always"));
        assertThat(errors).singleElement().asString()
                .contains("Deployment d [kubernetes-1.32] spec.template.spec.containers[app].imagePullPolcy: unknown field");
    }

    @Test
    void shouldRejectAWrongEnumValue() {
        List<String> errors = validate("""
                apiVersion: cert-manager.io/v1
                kind: Certificate
                metadata: {name: c}
                spec:
                  secretName: s
                  issuerRef: {name: i, kind: Issuer}
                  privateKey: {algorithm: ECDSA, encoding: PKCS9}
                """);
        assertThat(errors).singleElement().asString().contains("spec.privateKey.encoding: \"PKCS9\" is not one of");
    }

    @Test
    void shouldRejectAMissingRequiredField() {
        List<String> errors = validate("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  template:
                    spec:
                      containers: [{image: x}]
                """);
        assertThat(errors).anyMatch(e -> e.endsWith("spec: required field selector is missing"))
                .anyMatch(e -> e.endsWith("spec.template.spec.containers[0]: required field name is missing"));
    }

    @Test
    void shouldRejectWrongTypesButAcceptIntOrStringAndQuantitiesAsNumbersOrStrings() {
        assertThat(validate(deployment("ports: [{name: http, containerPort: http}]")))
                .singleElement().asString().contains("containerPort: must be of type integer, found string \"http\"");
        assertThat(validate(deployment("resources: {limits: {cpu: 2, memory: 512Mi}, requests: {cpu: 0.5}}"))).isEmpty();
        assertThat(validate(deployment("resources: {limits: {cpu: true}}"))).singleElement().asString()
                .contains("resources.limits.cpu: matches 0 of oneOf");
        assertThat(validate("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec:
                  ports: [{name: a, port: 80, targetPort: http}, {name: b, port: 81, targetPort: 8081}]
                """)).isEmpty();
        assertThat(validate("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec:
                  ports: [{name: a, port: 80, targetPort: [1]}]
                """)).singleElement().asString().contains("targetPort: matches 0 of oneOf");
    }

    @Test
    void shouldRejectUnknownKindsAndMisspeltMetadataButKeepPreservedUnknownFields() {
        assertThat(validate("apiVersion: example.org/v1\nkind: Widget\nmetadata: {name: w}\n"))
                .singleElement().asString().contains("no schema for apiVersion example.org/v1 kind Widget");
        assertThat(validate("apiVersion: kafka.strimzi.io/v1beta3\nkind: KafkaTopic\nmetadata: {name: t}\n"))
                .singleElement().asString().contains("no schema");
        List<String> errors = validate("""
                apiVersion: kafka.strimzi.io/v1
                kind: KafkaTopic
                metadata: {name: t, label: {strimzi.io/cluster: c}}
                spec:
                  partitions: 3
                  replicas: 1
                  config: {retention.ms: 1000, anything.the.broker.knows: x}
                """);
        assertThat(errors).hasSize(2).allMatch(e -> e.endsWith("metadata.label: unknown field (not in the schema)"));
        assertThat(validate("""
                apiVersion: kafka.strimzi.io/v1
                kind: KafkaTopic
                metadata: {name: t}
                spec: {partitions: 3, replicas: 1, replica: 2}
                """)).hasSize(2).allMatch(e -> e.endsWith("spec.replica: unknown field (not in the schema)"));
    }

    @Test
    void shouldJudgeKeycloakAndTheRealmByTheOperatorSchema() {
        assertThat(validate("""
                apiVersion: k8s.keycloak.org/v2alpha1
                kind: Keycloak
                metadata: {name: kc}
                spec:
                  instances: 1
                  hostname: {hostnam: https://auth.example.org}
                  networkPolicy: {enabled: true}
                  ingress: {enabled: true, className: nginx, tlsSecret: t}
                """)).singleElement().asString()
                .isEqualTo("Keycloak kc [keycloak-26.4.7] spec.hostname.hostnam: unknown field (not in the schema)");
        assertThat(validate("""
                apiVersion: k8s.keycloak.org/v2alpha1
                kind: KeycloakRealmImport
                metadata: {name: r}
                spec:
                  keycloakCRName: kc
                  realm: {realm: relay, enabled: true, displayName: Relay}
                """)).isEmpty();
        assertThat(validate("""
                apiVersion: k8s.keycloak.org/v2alpha1
                kind: KeycloakRealmImport
                metadata: {name: r}
                spec:
                  keycloakCRName: kc
                  realm: {realm: relay, enabld: true}
                """)).singleElement().asString().endsWith("spec.realm.enabld: unknown field (not in the schema)");
    }

    @Test
    void shouldRejectAStringWhereACrdWantsAnIntegerAndAPatternMismatch() {
        assertThat(validate("""
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: so}
                spec:
                  scaleTargetRef: {name: d}
                  maxReplicaCount: "6"
                  triggers: [{type: kafka, metadata: {topic: t}}]
                """)).singleElement().asString().contains("spec.maxReplicaCount: must be of type integer");
    }

    @Test
    void shouldTakeCrdQuantitiesAsIntegersOrStringsOnly() {
        String pool = """
                apiVersion: kafka.strimzi.io/v1
                kind: KafkaNodePool
                metadata: {name: p, labels: {strimzi.io/cluster: c}}
                spec:
                  replicas: 1
                  roles: [broker]
                  storage: {type: ephemeral}
                  resources: {requests: {cpu: %s, memory: 2Gi}}
                """;
        assertThat(validate(pool.formatted("1"))).isEmpty();
        assertThat(validate(pool.formatted("500m"))).isEmpty();
        // x-kubernetes-int-or-string in a CRD: the API server refuses a fraction (write "500m")
        assertThat(validate(pool.formatted("0.5"))).hasSize(2)
                .allMatch(e -> e.contains("spec.resources.requests.cpu: must be an integer or a string"));
        assertThat(validate(pool.formatted("[1]"))).hasSize(2);
    }

    private static List<String> validate(String yaml) {
        try {
            JsonNode node = Rendered.YAML.readTree(yaml);
            return SchemaCatalog.repository().validate(node);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A valid Deployment whose one container gets the given extra lines (YAML at container level). */
    private static String deployment(String containerExtra) {
        StringBuilder yaml = new StringBuilder("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  selector: {matchLabels: {app: d}}
                  template:
                    metadata: {labels: {app: d}}
                    spec:
                      containers:
                      - name: app
                        image: registry.example.org/app:1
                """);
        containerExtra.lines().forEach(l -> yaml.append("        ").append(l.strip()).append('\n'));
        return yaml.toString();
    }
}
