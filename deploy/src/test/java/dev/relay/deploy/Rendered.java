package dev.relay.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One overlay rendered by {@code kubectl kustomize} and parsed into Fabric8 / Strimzi model objects. Renders once
 * per overlay and test run (kubectl takes a fraction of a second; the parsing is cached with it).
 */
final class Rendered {

    /** Custom resources without a Java model on Maven Central: parsed as GenericKubernetesResource. */
    static final Set<String> GENERIC_KINDS = Set.of(
            "keda.sh/v1alpha1/ScaledObject", "keda.sh/v1alpha1/TriggerAuthentication",
            "k8s.keycloak.org/v2alpha1/Keycloak", "k8s.keycloak.org/v2alpha1/KeycloakRealmImport");

    static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    static {
        // Strimzi's model does not register itself with Fabric8: do it, for the v1 API that the manifests use.
        for (Class<? extends io.fabric8.kubernetes.api.model.KubernetesResource> type
                : List.of(Kafka.class, KafkaNodePool.class, KafkaTopic.class, KafkaUser.class)) {
            SERIALIZATION.registerKubernetesResource("kafka.strimzi.io/v1", type.getSimpleName(), type);
        }
    }

    private static final Map<String, Rendered> CACHE = new ConcurrentHashMap<>();

    final String overlay;
    final String yaml;
    final List<HasMetadata> objects;

    private Rendered(String overlay, String yaml, List<HasMetadata> objects) {
        this.overlay = overlay;
        this.yaml = yaml;
        this.objects = objects;
    }

    static List<String> overlays() {
        try (Stream<Path> dirs = Files.list(Repository.OVERLAYS)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("kustomization.yaml")))
                    .map(d -> d.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Rendered overlay(String name) {
        return CACHE.computeIfAbsent(name, Rendered::render);
    }

    boolean isProduction() {
        return overlay.equals("production");
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type, String name) {
        return find(type, name).orElseThrow(() -> new AssertionError(
                overlay + ": no " + type.getSimpleName() + " named " + name));
    }

    <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
        return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
    }

    List<GenericKubernetesResource> generic(String kind) {
        return all(GenericKubernetesResource.class).stream().filter(g -> g.getKind().equals(kind)).toList();
    }

    Deployment deployment(String name) {
        return one(Deployment.class, name);
    }

    private static Rendered render(String overlay) {
        Path dir = Repository.OVERLAYS.resolve(overlay);
        String yaml = kubectlKustomize(dir);
        List<HasMetadata> objects = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (document.isBlank()) {
                continue;
            }
            Object parsed = SERIALIZATION.unmarshal(document);
            if (!(parsed instanceof HasMetadata object)) {
                throw new AssertionError(overlay + ": a document is not a Kubernetes object:\n" + document);
            }
            String type = object.getApiVersion() + "/" + object.getKind();
            if (object instanceof GenericKubernetesResource && !GENERIC_KINDS.contains(type)) {
                throw new AssertionError(overlay + ": " + type + " " + object.getMetadata().getName()
                        + " is not a known Kubernetes or CRD type (wrong apiVersion or kind?)");
            }
            objects.add(object);
        }
        return new Rendered(overlay, yaml, List.copyOf(objects));
    }

    private static String kubectlKustomize(Path dir) {
        ProcessBuilder builder = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(false);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("kubectl is required to render deploy/kubernetes (kubectl kustomize) but could not"
                    + " be started: " + e.getMessage() + ". Install kubectl >= 1.27 and put it on the PATH.", e);
        }
        try {
            process.getOutputStream().close();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread errReader = new Thread(() -> copy(process.getErrorStream(), err));
            errReader.start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            copy(process.getInputStream(), out);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("kubectl kustomize " + dir + " did not finish in 60 s");
            }
            errReader.join();
            if (process.exitValue() != 0) {
                throw new AssertionError("kubectl kustomize " + dir + " failed (exit " + process.exitValue() + "):\n"
                        + err.toString(StandardCharsets.UTF_8));
            }
            return out.toString(StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        try (in) {
            in.transferTo(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
