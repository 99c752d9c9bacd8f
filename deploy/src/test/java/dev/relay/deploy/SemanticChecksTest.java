package dev.relay.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The semantic checks ({@link SemanticChecks}) pass on every overlay, and each one fails on a doctored copy of a
 * real render (the negative tests: the check must see the one thing changed).
 */
class SemanticChecksTest {

    static List<String> overlays() {
        return ManifestStructureTest.overlays();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldNameServicesResolvableFromWhereTheyAreUsed(String overlay) {
        assertThat(SemanticChecks.serviceAddresses(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldReferenceOnlySecretsAndConfigMapsThatWillExist(String overlay) {
        assertThat(SemanticChecks.references(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldSelectRealPodsServicesAndTargets(String overlay) {
        assertThat(SemanticChecks.selectors(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldRouteIngressesToRealServicesOverTlsThroughTheirNetworkPolicies(String overlay) {
        assertThat(SemanticChecks.ingresses(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldExpectTokensFromTheIssuerKeycloakStamps(String overlay) {
        assertThat(SemanticChecks.issuer(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldPinEveryImageAtARegistry(String overlay) {
        assertThat(SemanticChecks.images(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldLabelMonitoringForADefaultKubePrometheusStack(String overlay) {
        assertThat(SemanticChecks.monitoringLabels(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldLetDnsOutWithoutAssumingCoreDns(String overlay) {
        assertThat(SemanticChecks.dnsEgress(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldNeverScaleConsumersBeyondThePartitions(String overlay) {
        assertThat(SemanticChecks.consumerCeilings(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldSizeTheHeapForTheContainer(String overlay) {
        assertThat(SemanticChecks.heap(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldPlaceKafkaOnNamedStorageAcrossZonesAndHosts(String overlay) {
        assertThat(SemanticChecks.kafkaPlacement(Manifests.of(overlay))).as(overlay).isEmpty();
    }

    // ---- each check fails on a doctored render ----

    @Test
    void shouldRejectShortAndForeignNamesInKedaAndUnknownServicesOrPorts() {
        Manifests prod = Manifests.of("production");
        Function<Manifests, List<String>> check = SemanticChecks::serviceAddresses;
        assertNewProblem(prod, check, m -> kafkaTrigger(m).put("bootstrapServers", "relay-kafka-kafka-bootstrap.relay.svc:9093"),
                m -> kafkaTrigger(m).put("bootstrapServers", "relay-kafka-kafka-bootstrap:9093"),
                "ScaledObject relay-delivery trigger kafka metadata.bootstrapServers (resolved from KEDA's namespace): "
                        + "\"relay-kafka-kafka-bootstrap:9093\" is a short name");
        assertNewProblem(prod, check, m -> kafkaTrigger(m).put("bootstrapServers", "relay-kafka-kafka-bootstrap.keda.svc:9093"),
                "names namespace keda, not the overlay's relay");
        assertNewProblem(prod, check, m -> setEnv(m, "relay-policy", "KAFKA_BOOTSTRAP_SERVERS", "relay-kafka-kafka-bootstrp:9093"),
                "Deployment relay-policy env KAFKA_BOOTSTRAP_SERVERS: \"relay-kafka-kafka-bootstrp:9093\": no Service relay-kafka-kafka-bootstrp");
        assertNewProblem(prod, check, m -> setEnv(m, "relay-ingress", "RELAY_INGRESS_KEYCLOAK_URL", "http://relay-keycloak-service:8081"),
                "Service relay-keycloak-service has no port 8081");
        assertNewProblem(prod, check, m -> setEnv(m, "relay-policy", "KAFKA_BOOTSTRAP_SERVERS", "relay-kafka-kafka-bootstrap.relay.svc:9092"),
                "Service relay-kafka-kafka-bootstrap has no port 9092");
    }

    @Test
    void shouldRejectReferencesToSecretsOrKeysNobodyCreates() {
        Manifests prod = Manifests.of("production");
        Function<Manifests, List<String>> check = SemanticChecks::references;
        assertNewProblem(prod, check, m -> envFrom(m, "relay-policy", "KAFKA_SASL_JAAS_CONFIG").put("name", "relay-polcy"),
                "Deployment relay-policy env KAFKA_SASL_JAAS_CONFIG: Secret relay-polcy is neither rendered");
        assertNewProblem(prod, check, m -> envFrom(m, "relay-policy", "KAFKA_SASL_JAAS_CONFIG").put("key", "jaas"),
                "Secret relay-policy has no key jaas");
        assertNewProblem(prod, check, m -> ((ObjectNode) m.one("TriggerAuthentication", "relay-delivery-kafka")
                        .path("spec").path("secretTargetRef").get(1)).put("name", "relay-kafka-ca"),
                "TriggerAuthentication relay-delivery-kafka secretTargetRef ca: Secret relay-kafka-ca is neither rendered");
    }

    @Test
    void shouldRejectSelectorsThatSelectNothing() {
        Manifests dev = Manifests.of("dev");
        Function<Manifests, List<String>> check = SemanticChecks::selectors;
        assertNewProblem(dev, check, m -> ((ObjectNode) m.one("Service", "relay-policy").path("spec").path("selector"))
                .put("app.kubernetes.io/name", "relay-polcy"), "Service relay-policy spec.selector");
        assertNewProblem(dev, check, m -> ((ObjectNode) m.one("PodDisruptionBudget", "relay-ingress").path("spec")
                .path("selector").path("matchLabels")).put("app", "x"), "PodDisruptionBudget relay-ingress spec.selector");
        assertNewProblem(dev, check, m -> ((ObjectNode) m.one("NetworkPolicy", "relay-keycloak").path("spec").path("podSelector")
                .path("matchLabels")).put("app.kubernetes.io/instance", "keycloak"), "NetworkPolicy relay-keycloak spec.podSelector");
        assertNewProblem(dev, check, m -> ((ObjectNode) m.one("ServiceMonitor", "relay-services").path("spec").path("endpoints")
                .get(0)).put("port", "metrics"), "ServiceMonitor relay-services endpoint port metrics");
        assertNewProblem(dev, check, m -> ((ObjectNode) m.one("HorizontalPodAutoscaler", "relay-policy").path("spec")
                .path("scaleTargetRef")).put("name", "policy"), "HorizontalPodAutoscaler relay-policy scaleTargetRef: no Deployment named \"policy\"");
        assertNewProblem(dev, check, m -> ((ObjectNode) m.kind("Keycloak").get(0).path("spec")).putObject("networkPolicy")
                .putArray("http").addObject().putObject("podSelector").putObject("matchLabels").put("app.kubernetes.io/name", "relay-ingres"),
                "Keycloak relay-keycloak spec.networkPolicy.http podSelector {app.kubernetes.io/name=relay-ingres} selects no pod");
    }

    @Test
    void shouldRejectIngressesToNowhereWithoutTlsOrBeyondTheAdminApi() {
        Function<Manifests, List<String>> check = SemanticChecks::ingresses;
        Consumer<Manifests> admin = m -> {
            m.docs.removeIf(d -> d.path("kind").asText().equals("Ingress"));
            ObjectNode ingress = m.docs.get(0).objectNode();
            ingress.put("apiVersion", "networking.k8s.io/v1").put("kind", "Ingress").putObject("metadata").put("name", "relay-admin");
            ObjectNode spec = ingress.putObject("spec");
            ObjectNode path = spec.putArray("rules").addObject().put("host", "admin.example.org").putObject("http")
                    .putArray("paths").addObject().put("path", "/api").put("pathType", "Prefix");
            path.putObject("backend").putObject("service").put("name", "relay-policy").putObject("port").put("name", "http");
            spec.putArray("tls").addObject().put("secretName", "relay-smtp-tls");
            m.docs.add(ingress);
            ArrayNode rules = (ArrayNode) m.one("NetworkPolicy", "relay-policy").path("spec").withArray("ingress");
            ObjectNode controller = rules.addObject();
            controller.putArray("from").addObject().putObject("namespaceSelector").putObject("matchLabels")
                    .put("kubernetes.io/metadata.name", "ingress-nginx");
            controller.putArray("ports").addObject().put("port", 8080).put("protocol", "TCP");
        };
        Manifests dev = Manifests.of("dev");
        assertThat(check.apply(dev.doctored(admin))).as("the doctored admin Ingress is right").isEmpty();
        Function<Manifests, ObjectNode> path = m -> (ObjectNode) m.one("Ingress", "relay-admin").path("spec").path("rules")
                .get(0).path("http").path("paths").get(0);
        assertNewProblem(dev, check, admin, m -> path.apply(m).put("path", "/"), "the admin Ingress routes only /api");
        assertNewProblem(dev, check, admin, m -> path.apply(m).put("path", "/q/metrics"), "the admin Ingress routes only /api");
        assertNewProblem(dev, check, admin, m -> ((ObjectNode) path.apply(m).path("backend").path("service")).put("name", "relay-admin"),
                "Ingress relay-admin admin.example.org/api: no Service relay-admin");
        assertNewProblem(dev, check, admin, m -> ((ObjectNode) path.apply(m).path("backend").path("service").path("port"))
                .put("name", "https"), "has no port");
        assertNewProblem(dev, check, admin, m -> ((ObjectNode) m.one("Ingress", "relay-admin").path("spec").path("tls").get(0))
                .put("secretName", "relay-admin-tls-typo"), "tls secretName relay-admin-tls-typo: no such Secret");
        assertNewProblem(dev, check, admin, m -> {
                    // every rule that admits a whole namespace goes (the rule the doctoring added, and any the overlay has)
                    ArrayNode rules = (ArrayNode) m.one("NetworkPolicy", "relay-policy").path("spec").path("ingress");
                    for (int i = rules.size() - 1; i >= 0; i--) {
                        if (Manifests.list(rules.get(i).path("from")).stream()
                                .anyMatch(peer -> peer.has("namespaceSelector") && !peer.has("podSelector"))) {
                            rules.remove(i);
                        }
                    }
                },
                "no NetworkPolicy admits the ingress controller's namespace to Deployment relay-policy on port 8080");
    }

    @Test
    void shouldRejectAnIssuerThatIsNotTheKeycloakHostname() {
        Function<Manifests, List<String>> check = SemanticChecks::issuer;
        assertNewProblem(Manifests.of("production"), check,
                m -> setEnv(m, "relay-ingress", "RELAY_INGRESS_KEYCLOAK_ISSUER", "https://auth.relay.example.org/realms/master"),
                "RELAY_INGRESS_KEYCLOAK_ISSUER is \"https://auth.relay.example.org/realms/master\", Keycloak issues tokens as");
        assertNewProblem(Manifests.of("dev"), check,
                m -> ((ObjectNode) m.kind("Keycloak").get(0).path("spec").path("hostname")).put("hostname", "auth.relay-dev.localhost"),
                "is not a full public URL");
    }

    @Test
    void shouldRejectImagesWithoutRegistryTagOrDigest() {
        Function<Manifests, List<String>> check = SemanticChecks::images;
        Manifests dev = Manifests.of("dev");
        assertNewProblem(dev, check, m -> container(m, "relay-ingress").put("image", "relay/ingress-service"), "no registry host");
        assertNewProblem(dev, check, m -> container(m, "relay-ingress").put("image", "localhost:5001/relay/ingress-service:latest"),
                "neither a version tag nor a digest");
        assertNewProblem(Manifests.of("production"), check,
                m -> container(m, "relay-policy").put("image", "registry.example.org/relay/policy-service:0.1.0-SNAPSHOT"),
                "expected registry.example.org/relay/policy-service:0.1.0");
        assertNewProblem(dev, check, m -> {
            ObjectNode sidecar = ((ArrayNode) m.one("Deployment", "relay-delivery").path("spec").path("template").path("spec")
                    .path("containers")).addObject();
            sidecar.put("name", "sink").put("image", "docker.io/library/busybox:1.36");
        }, "a third-party image is pinned by tag and sha256 digest");
    }

    @Test
    void shouldRejectMonitoringWithoutTheReleaseLabel() {
        assertNewProblem(Manifests.of("dev"), SemanticChecks::monitoringLabels,
                m -> m.docs.stream().filter(d -> d.path("kind").asText().matches("ServiceMonitor|PodMonitor|PrometheusRule"))
                        .forEach(d -> ((ObjectNode) d.path("metadata")).putObject("labels").put("release", "kube-prometheus-stack")),
                m -> ((ObjectNode) m.one("PrometheusRule", "relay").path("metadata")).remove("labels"),
                "PrometheusRule relay: no label release: kube-prometheus-stack");
    }

    @Test
    void shouldRejectDnsEgressThatMissesAPortOrAssumesCoreDns() {
        Consumer<Manifests> onlyDns = m -> {
            ArrayNode egress = ((ObjectNode) m.one("NetworkPolicy", "relay-policy").path("spec")).putArray("egress");
            ObjectNode rule = egress.addObject();
            rule.putArray("to").addObject().putObject("namespaceSelector");
            ((ArrayNode) rule.path("to")).addObject().putObject("ipBlock").put("cidr", "169.254.20.10/32");
            for (String protocol : List.of("UDP", "TCP")) {
                for (int port : List.of(53, 5353)) {
                    rule.withArray("ports").addObject().put("protocol", protocol).put("port", port);
                }
            }
        };
        assertThat(SemanticChecks.dnsEgress(Manifests.of("dev").doctored(onlyDns)))
                .noneMatch(p -> p.contains("relay-policy"));
        assertNewProblem(Manifests.of("dev"), SemanticChecks::dnsEgress, onlyDns,
                m -> ((ArrayNode) m.one("NetworkPolicy", "relay-policy").path("spec").path("egress")).addObject().putArray("to")
                        .addObject().putObject("podSelector").putObject("matchLabels").put("k8s-app", "kube-dns"),
                "NetworkPolicy relay-policy: egress assumes DNS pods labelled k8s-app");
        assertNewProblem(Manifests.of("dev"), SemanticChecks::dnsEgress, onlyDns,
                m -> ((ArrayNode) m.one("NetworkPolicy", "relay-policy").path("spec").path("egress").get(0).path("ports")).remove(3),
                "Deployment relay-policy (NetworkPolicy relay-policy): no egress TCP/5353 to namespaceSelector: {}");
    }

    @Test
    void shouldRejectMoreConsumersThanPartitions() {
        Function<Manifests, List<String>> check = SemanticChecks::consumerCeilings;
        assertNewProblem(Manifests.of("production"), check, m -> ((ObjectNode) m.one("HorizontalPodAutoscaler", "relay-policy")
                .path("spec")).put("maxReplicas", 100), "relay-policy channel inbound (group relay-policy): up to 100 pods");
        assertNewProblem(Manifests.of("production"), check, m -> ((ObjectNode) m.one("ScaledObject", "relay-delivery")
                .path("spec")).remove("maxReplicaCount"), "relay-delivery channel outbound (group relay-delivery): up to 100 pods");
    }

    @Test
    void shouldRejectAHeapNotSizedForTheContainer() {
        Function<Manifests, List<String>> check = SemanticChecks::heap;
        Manifests dev = Manifests.of("dev").doctored(m -> setEnv(m, "relay-delivery", "JAVA_OPTS_APPEND",
                ServiceModule.of("relay-delivery").imageJavaOptsAppend() + " -XX:MaxRAMPercentage=70"));
        assertThat(check.apply(dev)).noneMatch(p -> p.startsWith("Deployment relay-delivery") && !p.contains("memory limit"));
        assertNewProblem(dev, check, m -> removeEnv(m, "relay-delivery", "JAVA_OPTS_APPEND", "JAVA_MAX_MEM_RATIO"),
                "Deployment relay-delivery container delivery: heap not set relative to the limit");
        assertNewProblem(dev, check, m -> setEnv(m, "relay-delivery", "JAVA_OPTS_APPEND", "-XX:MaxRAMPercentage=95"),
                "heap 95.0% of the container limit");
        assertNewProblem(dev, check, m -> setEnv(m, "relay-delivery", "JAVA_OPTS_APPEND", "-XX:MaxRAMPercentage=70"),
                "replaces the image's value and drops -XX:TieredStopAtLevel=1");
        assertNewProblem(dev, check, m -> ((ObjectNode) container(m, "relay-ingress").path("resources").path("limits")).remove("memory"),
                "Deployment relay-ingress container ingress: no memory limit");
    }

    @Test
    void shouldRejectProductionKafkaWithoutStorageClassOrSpread() {
        Function<Manifests, List<String>> check = SemanticChecks::kafkaPlacement;
        Manifests prod = Manifests.of("production").doctored(m -> {
            ObjectNode pool = m.kind("KafkaNodePool").get(0);
            ((ObjectNode) m.kind("Kafka").get(0).path("spec").path("kafka")).remove("resources");
            ((ObjectNode) pool.path("spec")).putObject("resources").putObject("limits").put("memory", "4Gi");
            ((ObjectNode) pool.path("spec").path("storage").path("volumes").get(0)).put("class", "fast-ssd");
            ArrayNode spread = ((ObjectNode) pool.path("spec")).putObject("template").putObject("pod").putArray("topologySpreadConstraints");
            for (String key : List.of("topology.kubernetes.io/zone", "kubernetes.io/hostname")) {
                spread.addObject().put("topologyKey", key).put("maxSkew", 1).put("whenUnsatisfiable", "DoNotSchedule")
                        .putObject("labelSelector").putObject("matchLabels").put("strimzi.io/cluster", "relay-kafka")
                        .put("strimzi.io/pool-name", Manifests.name(pool));
            }
        });
        assertThat(check.apply(prod)).isEmpty();
        assertNewProblem(prod, check, m -> ((ObjectNode) m.kind("KafkaNodePool").get(0).path("spec").path("storage")
                .path("volumes").get(0)).remove("class"), "spec.storage volume 0: no storage class");
        assertNewProblem(prod, check, m -> ((ObjectNode) m.kind("KafkaNodePool").get(0).path("spec")).remove("template"),
                "spec.template.pod.topologySpreadConstraints: none across topology.kubernetes.io/zone");
        assertNewProblem(prod, check, m -> ((ObjectNode) m.kind("Kafka").get(0).path("spec").path("kafka"))
                .putObject("resources").putObject("limits").put("memory", "2Gi"), "spec.kafka.resources: belongs on the KafkaNodePool");
    }

    // ---- helpers ----

    /** The doctored render has a problem containing {@code fragment} that the real render does not have. */
    static void assertNewProblem(Manifests base, Function<Manifests, List<String>> check, Consumer<Manifests> change,
                                 String fragment) {
        assertNewProblem(base, check, m -> { }, change, fragment);
    }

    /**
     * Like {@link #assertNewProblem(Manifests, Function, Consumer, String)}, from a render first made right in the
     * respect under test ({@code good}), so that the negative test does not depend on the state of the manifests.
     */
    static void assertNewProblem(Manifests base, Function<Manifests, List<String>> check, Consumer<Manifests> good,
                                 Consumer<Manifests> change, String fragment) {
        Manifests right = base.doctored(good);
        List<String> before = check.apply(right);
        List<String> after = check.apply(right.doctored(change));
        assertThat(after).as("problems after the change (before: %s)", before)
                .anyMatch(p -> p.contains(fragment) && !before.contains(p));
    }

    static ObjectNode container(Manifests m, String deployment) {
        return (ObjectNode) m.one("Deployment", deployment).path("spec").path("template").path("spec").path("containers").get(0);
    }

    static void setEnv(Manifests m, String deployment, String name, String value) {
        ArrayNode env = (ArrayNode) container(m, deployment).path("env");
        for (JsonNode e : env) {
            if (e.path("name").asText().equals(name)) {
                ((ObjectNode) e).remove("valueFrom");
                ((ObjectNode) e).put("value", value);
                return;
            }
        }
        env.addObject().put("name", name).put("value", value);
    }

    static void removeEnv(Manifests m, String deployment, String... names) {
        ArrayNode env = (ArrayNode) container(m, deployment).path("env");
        for (int i = env.size() - 1; i >= 0; i--) {
            if (List.of(names).contains(env.get(i).path("name").asText())) {
                env.remove(i);
            }
        }
    }

    static ObjectNode envFrom(Manifests m, String deployment, String name) {
        for (JsonNode e : container(m, deployment).path("env")) {
            if (e.path("name").asText().equals(name)) {
                JsonNode from = e.path("valueFrom");
                return (ObjectNode) (from.has("secretKeyRef") ? from.path("secretKeyRef") : from.path("configMapKeyRef"));
            }
        }
        throw new AssertionError(deployment + " has no env " + name);
    }

    static ObjectNode kafkaTrigger(Manifests m) {
        for (JsonNode t : m.one("ScaledObject", "relay-delivery").path("spec").path("triggers")) {
            if (t.path("type").asText().equals("kafka")) {
                return (ObjectNode) t.path("metadata");
            }
        }
        throw new AssertionError("no kafka trigger");
    }
}
