package dev.relay.deploy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One overlay rendered by {@code kubectl kustomize}, as plain JSON trees (what the schema and semantic checks read)
 * and parsed into Fabric8 / Strimzi model objects (what the older checks read). Renders once per overlay and test
 * run (kubectl takes a fraction of a second; the parsing is cached with it). Whether a document's kind exists is
 * the schema check's question (SchemaValidationTest), not the parser's: the models accept unknown kinds and fields.
 */
final class Rendered {

    static final YAMLMapper YAML = new YAMLMapper();
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
    /** Every rendered document as a JSON tree, in render order (read-only by convention: copy before doctoring). */
    final List<ObjectNode> documents;

    private Rendered(String overlay, String yaml, List<HasMetadata> objects, List<ObjectNode> documents) {
        this.overlay = overlay;
        this.yaml = yaml;
        this.objects = objects;
        this.documents = documents;
    }

    /**
     * The overlays, plus the production overlay with each PROXY-protocol component added (named
     * {@code production+<component>}): the components are meant to be added to production by the operator, so they
     * are rendered and checked like an overlay of their own.
     */
    static List<String> overlays() {
        List<String> names = new ArrayList<>(directories(Repository.OVERLAYS, "kustomization.yaml"));
        for (String component : directories(Repository.KUBERNETES.resolve("components"), "kustomization.yaml")) {
            if (component.startsWith("proxy-protocol-")) {
                names.add("production+" + component);
            }
        }
        return List.copyOf(names);
    }

    private static List<String> directories(Path parent, String marker) {
        try (Stream<Path> dirs = Files.list(parent)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve(marker)))
                    .map(d -> d.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Rendered overlay(String name) {
        return CACHE.computeIfAbsent(name, Rendered::render);
    }

    boolean isProduction() {
        return overlay.equals("production") || overlay.startsWith("production+");
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
        Path dir = overlay.contains("+") ? variant(overlay) : Repository.OVERLAYS.resolve(overlay);
        String yaml = kubectlKustomize(dir);
        return parse(overlay, yaml);
    }

    /** {@code base+component}: a kustomization under deploy/target that adds the component to the overlay. */
    private static Path variant(String name) {
        String[] parts = name.split("\\+", 2);
        Path dir = Repository.ROOT.resolve("deploy/target/variants").resolve(name);
        String kustomization = """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - ../../../kubernetes/overlays/%s
                components:
                  - ../../../kubernetes/components/%s
                """.formatted(parts[0], parts[1]);
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("kustomization.yaml"), kustomization);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return dir;
    }

    /** Parses a multi-document YAML stream as {@code kubectl kustomize} prints it (also used for doctored copies). */
    static Rendered parse(String overlay, String yaml) {
        List<HasMetadata> objects = new ArrayList<>();
        List<ObjectNode> documents = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (document.isBlank()) {
                continue;
            }
            Object parsed = SERIALIZATION.unmarshal(document);
            if (!(parsed instanceof HasMetadata object)) {
                throw new AssertionError(overlay + ": a document is not a Kubernetes object:\n" + document);
            }
            objects.add(object);
            try {
                documents.add((ObjectNode) YAML.readTree(document));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return new Rendered(overlay, yaml, List.copyOf(objects), List.copyOf(documents));
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
