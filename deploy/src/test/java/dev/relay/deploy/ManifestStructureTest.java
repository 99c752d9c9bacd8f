package dev.relay.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.certmanager.api.model.v1.Certificate;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Every overlay renders into known, well-formed objects with the properties a platform team relies on. */
class ManifestStructureTest {

    static List<String> overlays() {
        List<String> overlays = Rendered.overlays();
        assertThat(overlays).contains("dev", "production");
        return overlays;
    }

    /** Unknown kinds and fields are the schema check's (SchemaValidationTest): the Java models accept removed fields. */
    @ParameterizedTest
    @MethodSource("overlays")
    void shouldRenderEveryKindTheTopologyNeeds(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        assertThat(r.objects).isNotEmpty();
        for (HasMetadata object : r.objects) {
            assertThat(object.getMetadata().getName()).as("name of a %s", object.getKind()).isNotBlank();
        }
        Set<String> kinds = r.objects.stream().map(HasMetadata::getKind).collect(Collectors.toSet());
        assertThat(kinds).contains("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                "NetworkPolicy", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Keycloak",
                "KeycloakRealmImport", "Certificate", "ServiceMonitor", "PrometheusRule", "ConfigMap");
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldGiveEveryContainerProbesResourcesAndARestrictedSecurityContext(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        assertThat(r.all(Deployment.class)).extracting(d -> d.getMetadata().getName())
                .containsExactlyInAnyOrderElementsOf(ServiceModule.MODULES.keySet());
        for (Deployment d : r.all(Deployment.class)) {
            String name = d.getMetadata().getName();
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(name).isTrue();
            assertThat(pod.getSecurityContext().getSeccompProfile().getType()).as(name).isEqualTo("RuntimeDefault");
            assertThat(pod.getAutomountServiceAccountToken()).as(name).isFalse();
            for (Container c : pod.getContainers()) {
                String where = name + "/" + c.getName();
                assertHttpProbe(c.getLivenessProbe(), "/q/health/live", where);
                assertHttpProbe(c.getReadinessProbe(), "/q/health/ready", where);
                assertThat(c.getResources().getRequests()).as(where + " requests").containsKeys("cpu", "memory");
                assertThat(c.getResources().getLimits()).as(where + " limits").containsKeys("cpu", "memory");
                var sc = c.getSecurityContext();
                assertThat(sc.getAllowPrivilegeEscalation()).as(where).isFalse();
                assertThat(sc.getReadOnlyRootFilesystem()).as(where).isTrue();
                assertThat(sc.getCapabilities().getDrop()).as(where).containsExactly("ALL");
                assertThat(Boolean.TRUE.equals(sc.getRunAsNonRoot()) || Boolean.TRUE.equals(pod.getSecurityContext().getRunAsNonRoot()))
                        .as(where).isTrue();
                String tmpVolume = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp"))
                        .map(m -> m.getName()).findFirst().orElseThrow(() -> new AssertionError(where + ": no /tmp mount"));
                assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals(tmpVolume))
                        .singleElement().extracting(Volume::getEmptyDir).as(where + " /tmp is an emptyDir").isNotNull();
                assertThat(c.getPorts()).as(where).anySatisfy(p -> {
                    assertThat(p.getName()).isEqualTo("http");
                    assertThat(p.getContainerPort()).isEqualTo(8080);
                });
                assertThat(env(c)).as(where).containsEntry("QUARKUS_HTTP_PORT", "8080");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldExposeSmtpOnTheStandardPortsToTheListenersTheIngressOpens(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        Container ingress = r.deployment("relay-ingress").getSpec().getTemplate().getSpec().getContainers().get(0);
        ServiceModule module = ServiceModule.of("relay-ingress");
        Map<String, String> env = env(ingress);
        Map<String, Integer> listening = Map.of(
                "smtp", Integer.parseInt(module.value("relay.ingress.smtp.relay-port", env)),
                "submission", Integer.parseInt(module.value("relay.ingress.smtp.submission-port", env)),
                "submissions", Integer.parseInt(module.value("relay.ingress.smtp.submissions-port", env)));
        assertThat(listening).containsEntry("smtp", 2525).containsEntry("submission", 2587).containsEntry("submissions", 2465);
        Map<String, Integer> declared = ingress.getPorts().stream()
                .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
        assertThat(declared).containsAllEntriesOf(listening).containsEntry("http", 8080);

        Service smtp = r.one(Service.class, "relay-smtp");
        assertThat(smtp.getSpec().getType()).isEqualTo("LoadBalancer");
        assertThat(smtp.getSpec().getExternalTrafficPolicy()).isEqualTo("Local");
        Map<Integer, Integer> forwarded = smtp.getSpec().getPorts().stream().collect(Collectors.toMap(
                ServicePort::getPort, p -> declared.get(p.getTargetPort().getStrVal())));
        assertThat(forwarded).containsExactlyInAnyOrderEntriesOf(Map.of(25, 2525, 587, 2587, 465, 2465));

        for (String name : ServiceModule.MODULES.keySet()) {
            Service http = r.one(Service.class, name);
            assertThat(http.getSpec().getPorts()).singleElement().satisfies(p -> {
                assertThat(p.getPort()).isEqualTo(8080);
                assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
            });
            assertThat(http.getSpec().getSelector()).isEqualTo(
                    r.deployment(name).getSpec().getSelector().getMatchLabels());
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldServeTlsFromACertManagerSecretMountedAsFiles(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        PodSpec pod = r.deployment("relay-ingress").getSpec().getTemplate().getSpec();
        Map<String, String> env = env(pod.getContainers().get(0));
        assertThat(env).containsEntry("RELAY_INGRESS_TLS_GENERATE_DEV_CERTIFICATE", "false");
        String certFile = env.get("RELAY_INGRESS_TLS_CERT_FILE");
        String keyFile = env.get("RELAY_INGRESS_TLS_KEY_FILE");
        assertThat(certFile).endsWith("/tls.crt");
        assertThat(keyFile).endsWith("/tls.key");
        var mount = pod.getContainers().get(0).getVolumeMounts().stream()
                .filter(m -> certFile.startsWith(m.getMountPath() + "/")).findFirst().orElseThrow();
        Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
        Certificate certificate = r.one(Certificate.class, "relay-smtp-tls");
        assertThat(volume.getSecret().getSecretName()).isEqualTo(certificate.getSpec().getSecretName());
        assertThat(certificate.getSpec().getPrivateKey().getEncoding()).as("the ingress reads PKCS#8 keys").isEqualTo("PKCS8");
        if (r.isProduction()) {
            assertThat(certificate.getSpec().getIssuerRef().getKind()).isEqualTo("ClusterIssuer");
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldScaleWithinThePartitionCountsAndProtectAgainstDisruption(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        for (Deployment d : r.all(Deployment.class)) {
            assertThat(d.getSpec().getReplicas()).as("%s: the autoscaler owns replicas", d.getMetadata().getName()).isNull();
        }
        HorizontalPodAutoscaler ingress = r.one(HorizontalPodAutoscaler.class, "relay-ingress");
        assertThat(ingress.getSpec().getMinReplicas()).isGreaterThanOrEqualTo(2);
        assertThat(ingress.getSpec().getMetrics()).anySatisfy(m -> assertThat(m.getResource().getName()).isEqualTo("cpu"));
        HorizontalPodAutoscaler policy = r.one(HorizontalPodAutoscaler.class, "relay-policy");
        assertThat(policy.getSpec().getMaxReplicas()).isLessThanOrEqualTo(Topics.partitions(r, "relay.inbound.v1"));

        List<GenericKubernetesResource> scaled = r.generic("ScaledObject");
        var deliveryHpa = r.find(HorizontalPodAutoscaler.class, "relay-delivery");
        if (r.isProduction()) {
            assertThat(deliveryHpa).as("KEDA creates the HPA; a second one would fight it").isEmpty();
        }
        assertThat(scaled.size() + (deliveryHpa.isPresent() ? 1 : 0)).as("exactly one autoscaler for delivery").isEqualTo(1);
        if (!scaled.isEmpty()) {
            Map<String, Object> spec = scaled.get(0).get("spec");
            assertThat(scaled.get(0).<String>get("spec", "scaleTargetRef", "name")).isEqualTo("relay-delivery");
            List<Map<String, Object>> triggers = scaled.get(0).get("spec", "triggers");
            Map<String, Object> kafka = triggers.stream().filter(t -> "kafka".equals(t.get("type"))).findFirst().orElseThrow();
            @SuppressWarnings("unchecked") Map<String, String> md = (Map<String, String>) kafka.get("metadata");
            ServiceModule delivery = ServiceModule.of("relay-delivery");
            Map<String, String> env = env(r.deployment("relay-delivery").getSpec().getTemplate().getSpec().getContainers().get(0));
            assertThat(md.get("consumerGroup")).isEqualTo(delivery.value("mp.messaging.incoming.outbound.group.id", env));
            assertThat(md.get("topic")).isEqualTo(delivery.value("mp.messaging.incoming.outbound.topic", env));
            assertThat(md.get("bootstrapServers")).isEqualTo(env.get("KAFKA_BOOTSTRAP_SERVERS"));
            assertThat(((Number) spec.get("maxReplicaCount")).intValue())
                    .isLessThanOrEqualTo(Topics.partitions(r, md.get("topic")));
            String auth = (String) ((Map<?, ?>) kafka.get("authenticationRef")).get("name");
            assertThat(r.generic("TriggerAuthentication")).extracting(g -> g.getMetadata().getName()).contains(auth);
        } else {
            assertThat(deliveryHpa.orElseThrow().getSpec().getMaxReplicas())
                    .isLessThanOrEqualTo(Topics.partitions(r, "relay.outbound.v1"));
        }
        for (String name : List.of("relay-ingress", "relay-delivery")) {
            assertThat(r.all(PodDisruptionBudget.class)).as("PDB for " + name).anySatisfy(pdb ->
                    assertThat(pdb.getSpec().getSelector().getMatchLabels())
                            .isEqualTo(r.deployment(name).getSpec().getSelector().getMatchLabels()));
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldGiveDeliveryMoreTimeToStopThanItsLongestSmtpWait(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        PodSpec pod = r.deployment("relay-delivery").getSpec().getTemplate().getSpec();
        ServiceModule delivery = ServiceModule.of("relay-delivery");
        Map<String, String> env = env(pod.getContainers().get(0));
        Duration longest = List.of("relay.delivery.data-timeout", "relay.delivery.command-timeout",
                        "relay.delivery.connect-timeout").stream()
                .map(k -> duration(delivery.value(k, env))).max(Duration::compareTo).orElseThrow();
        assertThat(longest).isGreaterThanOrEqualTo(Duration.ofMinutes(10));
        assertThat(Duration.ofSeconds(pod.getTerminationGracePeriodSeconds())).isGreaterThan(longest);
        // the drain (relay.delivery.shutdown-grace) lets a transaction in flight finish, and ends before the kill
        Duration drain = duration(delivery.value("relay.delivery.shutdown-grace", env));
        assertThat(drain).isGreaterThan(longest)
                .isLessThan(Duration.ofSeconds(pod.getTerminationGracePeriodSeconds()));
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldLimitNetworkAccessAsDesigned(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        List<NetworkPolicy> policies = r.all(NetworkPolicy.class);
        for (String name : ServiceModule.MODULES.keySet()) {
            assertThat(policies).as("NetworkPolicy for " + name).anySatisfy(p -> {
                assertThat(p.getSpec().getPodSelector().getMatchLabels()).containsEntry("app.kubernetes.io/name", name);
                assertThat(p.getSpec().getPolicyTypes()).contains("Ingress", "Egress");
            });
        }
        for (NetworkPolicy p : policies) {
            String selected = p.getSpec().getPodSelector().getMatchLabels().get("app.kubernetes.io/name");
            boolean smtpIn = p.getSpec().getIngress() != null && p.getSpec().getIngress().stream()
                    .flatMap(rule -> rule.getPorts() == null ? java.util.stream.Stream.empty() : rule.getPorts().stream())
                    .anyMatch(port -> Set.of(2525, 2587, 2465, 25).contains(port.getPort().getIntVal()));
            assertThat(smtpIn).as("only the ingress receives SMTP (%s)", p.getMetadata().getName())
                    .isEqualTo("relay-ingress".equals(selected));
            boolean port25Out = p.getSpec().getEgress() != null && p.getSpec().getEgress().stream()
                    .flatMap(rule -> rule.getPorts() == null ? java.util.stream.Stream.empty() : rule.getPorts().stream())
                    .anyMatch(port -> port.getPort().getIntVal() != null && port.getPort().getIntVal() == 25);
            if (port25Out) {
                assertThat(selected).as("only delivery opens port 25 (%s)", p.getMetadata().getName()).isEqualTo("relay-delivery");
            }
        }
        assertThat(r.one(NetworkPolicy.class, "relay-delivery").getSpec().getEgress()).as("delivery reaches MX hosts on 25")
                .anySatisfy(rule -> assertThat(rule.getPorts()).anySatisfy(port -> assertThat(port.getPort().getIntVal()).isEqualTo(25)));
        // Keycloak: the ingress and policy pods, and the ingress controller's namespace (its public hostname)
        NetworkPolicy keycloak = r.one(NetworkPolicy.class, "relay-keycloak");
        var peers = keycloak.getSpec().getIngress().stream()
                .filter(rule -> rule.getPorts().stream().anyMatch(port -> port.getPort().getIntVal() == 8080))
                .flatMap(rule -> rule.getFrom().stream()).toList();
        Set<String> clients = peers.stream().filter(peer -> peer.getPodSelector() != null && peer.getNamespaceSelector() == null)
                .map(peer -> peer.getPodSelector().getMatchLabels().get("app.kubernetes.io/name"))
                .collect(Collectors.toSet());
        assertThat(clients).containsExactlyInAnyOrder("relay-ingress", "relay-policy");
        Set<String> namespaces = peers.stream().filter(peer -> peer.getNamespaceSelector() != null && peer.getPodSelector() == null)
                .map(peer -> peer.getNamespaceSelector().getMatchLabels().get("kubernetes.io/metadata.name"))
                .collect(Collectors.toSet());
        assertThat(namespaces).as("Keycloak admits the ingress controller's namespace").containsExactly("ingress-nginx");
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void shouldScrapeEveryServiceAndAlertOnTheOperatorsSignals(String overlay) {
        Rendered r = Rendered.overlay(overlay);
        ServiceMonitor monitor = r.one(ServiceMonitor.class, "relay-services");
        for (String name : ServiceModule.MODULES.keySet()) {
            assertThat(r.one(Service.class, name).getMetadata().getLabels())
                    .containsAllEntriesOf(monitor.getSpec().getSelector().getMatchLabels());
        }
        assertThat(monitor.getSpec().getEndpoints()).singleElement().satisfies(e -> {
            assertThat(e.getPath()).isEqualTo("/q/metrics");
            assertThat(e.getPort()).isEqualTo("http");
        });
        String rules = r.one(PrometheusRule.class, "relay").getSpec().getGroups().stream()
                .flatMap(g -> g.getRules().stream()).map(rule -> rule.getAlert() + ": " + rule.getExpr().getStrVal())
                .collect(Collectors.joining("\n"));
        assertThat(rules).contains("kafka_consumergroup_lag{consumergroup=\"relay-delivery\"",
                "relay_delivery_attempts_total{result=\"bounced\"}", "smtp_auth_attempts_total{result=\"invalid\"}",
                "kube_deployment_status_replicas_available{deployment=\"relay-ingress\"}", "topic=\"relay.dlq.v1\"",
                "relay_delivery_retry_oldest_age_seconds");
        var dashboard = r.all(io.fabric8.kubernetes.api.model.ConfigMap.class).stream()
                .filter(c -> "1".equals(c.getMetadata().getLabels().get("grafana_dashboard"))).findFirst()
                .orElseThrow(() -> new AssertionError("no Grafana dashboard ConfigMap"));
        String json = dashboard.getData().values().iterator().next();
        var panels = Rendered.SERIALIZATION.unmarshal(json, GenericKubernetesResource.class);
        assertThat(json).contains("smtp_sessions_total", "relay_ingress_messages_total", "relay_delivery_attempts_total",
                "relay_delivery_duration_seconds", "kafka_consumergroup_lag", "kube_deployment_status_replicas_available");
        assertThat(panels.getAdditionalProperties()).containsKey("panels");
    }

    static void assertHttpProbe(Probe probe, String path, String where) {
        assertThat(probe).as(where + " probe " + path).isNotNull();
        assertThat(probe.getHttpGet().getPath()).as(where).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort().getStrVal()).as(where).isEqualTo("http");
    }

    /** Literal environment values; values from Secrets or ConfigMaps as "<from ...>". */
    static Map<String, String> env(Container c) {
        return c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e.getValue() != null ? e.getValue()
                : "<from " + (e.getValueFrom().getSecretKeyRef() != null ? "secret" : "configmap") + ">"));
    }

    static Duration duration(String value) {
        String v = value.strip();
        if (v.matches("\\d+")) {
            return Duration.ofSeconds(Long.parseLong(v));
        }
        return Duration.parse(v.matches("\\d+[dD]") ? "P" + v : "PT" + v.toUpperCase(java.util.Locale.ROOT));
    }
}
