package dev.relay.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.StreamSupport;

/**
 * The rendered documents of one overlay as JSON trees, plus what the operators will create from them (Services,
 * Secrets and pods of Strimzi, Keycloak, cert-manager): the world the semantic checks resolve names, keys and
 * selectors in. What each operator creates is written down here from its documented behaviour, for the operator
 * versions of deploy/schemas/README.md.
 */
final class Manifests {

    /** A Service: its labels and port numbers (name → port). */
    record Svc(String name, Map<String, String> labels, Map<String, Integer> ports, String createdBy) {
    }

    /** Pods of one owner: their labels and container port names → numbers. */
    record Pods(String owner, Map<String, String> labels, Map<String, Integer> ports, String createdBy) {
    }

    /** A Secret or ConfigMap: its keys (null: any key, e.g. documented in deploy/README.md). */
    record Data(String kind, String name, Set<String> keys, String createdBy) {
    }

    final String overlay;
    final List<ObjectNode> docs;

    Manifests(String overlay, List<ObjectNode> docs) {
        this.overlay = overlay;
        this.docs = docs;
    }

    static Manifests of(String overlay) {
        return new Manifests(overlay, Rendered.overlay(overlay).documents);
    }

    /** A deep copy with {@code change} applied: how the negative tests doctor a real render. */
    Manifests doctored(Consumer<Manifests> change) {
        Manifests copy = new Manifests(overlay, new ArrayList<>(docs.stream().map(ObjectNode::deepCopy).toList()));
        change.accept(copy);
        return copy;
    }

    boolean isProduction() {
        return overlay.equals("production") || overlay.startsWith("production+");
    }

    static String name(JsonNode doc) {
        return doc.path("metadata").path("name").asText();
    }

    static String label(JsonNode doc) {
        return doc.path("kind").asText() + " " + name(doc);
    }

    /** The one namespace of every namespaced document (kustomize's {@code namespace:}). */
    String namespace() {
        Set<String> namespaces = new LinkedHashSet<>();
        for (ObjectNode d : docs) {
            if (d.path("metadata").has("namespace")) {
                namespaces.add(d.path("metadata").path("namespace").asText());
            }
        }
        if (namespaces.size() != 1) {
            throw new AssertionError(overlay + ": expected one namespace, found " + namespaces);
        }
        return namespaces.iterator().next();
    }

    List<ObjectNode> kind(String kind) {
        return docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    }

    Optional<ObjectNode> find(String kind, String name) {
        return kind(kind).stream().filter(d -> name.equals(name(d))).findFirst();
    }

    ObjectNode one(String kind, String name) {
        return find(kind, name).orElseThrow(() -> new AssertionError(overlay + ": no " + kind + " " + name));
    }

    /** Deployments and StatefulSets. */
    List<ObjectNode> workloads() {
        return docs.stream().filter(d -> Set.of("Deployment", "StatefulSet").contains(d.path("kind").asText())).toList();
    }

    /** Every container (init containers too) of a workload. */
    static List<JsonNode> containers(JsonNode workload) {
        JsonNode spec = workload.path("spec").path("template").path("spec");
        List<JsonNode> all = new ArrayList<>();
        spec.path("initContainers").forEach(all::add);
        spec.path("containers").forEach(all::add);
        return all;
    }

    static Map<String, String> strings(JsonNode map) {
        Map<String, String> out = new TreeMap<>();
        map.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    /** Literal env values of a container; values from Secrets/ConfigMaps as {@code <from ...>}. */
    static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : container.path("env")) {
            env.put(e.path("name").asText(), e.has("value") ? e.path("value").asText() : "<from " + e.path("valueFrom") + ">");
        }
        return env;
    }

    /** The Services of the render and those the operators create. */
    List<Svc> services() {
        List<Svc> services = new ArrayList<>();
        for (ObjectNode s : kind("Service")) {
            Map<String, Integer> ports = new LinkedHashMap<>();
            s.path("spec").path("ports").forEach(p -> ports.put(p.path("name").asText(String.valueOf(p.path("port").asInt())),
                    p.path("port").asInt()));
            services.add(new Svc(name(s), strings(s.path("metadata").path("labels")), ports, null));
        }
        for (ObjectNode kafka : kind("Kafka")) {
            Map<String, Integer> listeners = new LinkedHashMap<>();
            kafka.path("spec").path("kafka").path("listeners").forEach(l -> listeners.put(l.path("name").asText(), l.path("port").asInt()));
            services.add(new Svc(name(kafka) + "-kafka-bootstrap", Map.of(), listeners, "Strimzi (Kafka " + name(kafka) + ")"));
            Map<String, Integer> brokers = new LinkedHashMap<>(listeners);
            brokers.put("tcp-ctrlplane", 9090);
            brokers.put("tcp-replication", 9091);
            services.add(new Svc(name(kafka) + "-kafka-brokers", Map.of(), brokers, "Strimzi (Kafka " + name(kafka) + ")"));
        }
        for (ObjectNode keycloak : kind("Keycloak")) {
            JsonNode http = keycloak.path("spec").path("http");
            Map<String, Integer> ports = new LinkedHashMap<>();
            if (http.path("httpEnabled").asBoolean(false)) {
                ports.put("http", http.path("httpPort").asInt(8080));
            }
            ports.put("https", http.path("httpsPort").asInt(8443));
            ports.put("management", keycloak.path("spec").path("httpManagement").path("port").asInt(9000));
            services.add(new Svc(name(keycloak) + "-service", Map.of(), ports, "Keycloak operator (Keycloak " + name(keycloak) + ")"));
        }
        return services;
    }

    /** The pods of the render's workloads and those the operators run. */
    List<Pods> pods() {
        List<Pods> pods = new ArrayList<>();
        for (ObjectNode w : workloads()) {
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (JsonNode c : containers(w)) {
                c.path("ports").forEach(p -> ports.put(p.path("name").asText(String.valueOf(p.path("containerPort").asInt())),
                        p.path("containerPort").asInt()));
            }
            pods.add(new Pods(label(w), strings(w.path("spec").path("template").path("metadata").path("labels")), ports, null));
        }
        for (ObjectNode kafka : kind("Kafka")) {
            String cluster = name(kafka);
            String by = "Strimzi (Kafka " + cluster + ")";
            Map<String, String> common = Map.of("strimzi.io/cluster", cluster, "strimzi.io/kind", "Kafka",
                    "app.kubernetes.io/instance", cluster, "app.kubernetes.io/managed-by", "strimzi-cluster-operator",
                    "app.kubernetes.io/part-of", "strimzi-" + cluster);
            for (ObjectNode pool : kind("KafkaNodePool")) {
                if (!cluster.equals(pool.path("metadata").path("labels").path("strimzi.io/cluster").asText())) {
                    continue;
                }
                Map<String, String> labels = new TreeMap<>(common);
                labels.putAll(Map.of("strimzi.io/name", cluster + "-kafka", "strimzi.io/pool-name", name(pool),
                        "strimzi.io/component-type", "kafka", "app.kubernetes.io/name", "kafka"));
                for (JsonNode role : pool.path("spec").path("roles")) {
                    labels.put("strimzi.io/" + role.asText() + "-role", "true");
                }
                labels.putAll(strings(kafka.path("spec").path("kafka").path("template").path("pod").path("metadata").path("labels")));
                labels.putAll(strings(pool.path("spec").path("template").path("pod").path("metadata").path("labels")));
                Map<String, Integer> ports = new LinkedHashMap<>();
                kafka.path("spec").path("kafka").path("listeners").forEach(l -> ports.put(l.path("name").asText(), l.path("port").asInt()));
                ports.put("tcp-ctrlplane", 9090);
                ports.put("tcp-replication", 9091);
                pods.add(new Pods("Kafka " + cluster + " pool " + name(pool), labels, ports, by));
            }
            if (kafka.path("spec").has("kafkaExporter")) {
                Map<String, String> labels = new TreeMap<>(common);
                labels.putAll(Map.of("strimzi.io/name", cluster + "-kafka-exporter", "app.kubernetes.io/name", "kafka-exporter"));
                pods.add(new Pods("Kafka " + cluster + " exporter", labels, Map.of("tcp-prometheus", 9404), by));
            }
            if (kafka.path("spec").has("entityOperator")) {
                Map<String, String> labels = new TreeMap<>(common);
                labels.putAll(Map.of("strimzi.io/name", cluster + "-entity-operator", "app.kubernetes.io/name", "entity-operator"));
                pods.add(new Pods("Kafka " + cluster + " entity operator", labels, Map.of(), by));
            }
        }
        for (ObjectNode keycloak : kind("Keycloak")) {
            Map<String, String> labels = new TreeMap<>(Map.of("app", "keycloak", "app.kubernetes.io/instance", name(keycloak),
                    "app.kubernetes.io/managed-by", "keycloak-operator", "app.kubernetes.io/component", "server"));
            labels.putAll(strings(keycloak.path("spec").path("unsupported").path("podTemplate").path("metadata").path("labels")));
            pods.add(new Pods("Keycloak " + name(keycloak), labels, Map.of("http", 8080, "https", 8443, "management", 9000),
                    "Keycloak operator"));
        }
        return pods;
    }

    /** Secrets and ConfigMaps of the render, those the operators create, and those deploy/README.md documents. */
    List<Data> data() {
        List<Data> data = new ArrayList<>();
        for (String kind : List.of("Secret", "ConfigMap")) {
            for (ObjectNode d : kind(kind)) {
                Set<String> keys = new LinkedHashSet<>();
                for (String field : List.of("data", "stringData", "binaryData")) {
                    d.path(field).fieldNames().forEachRemaining(keys::add);
                }
                data.add(new Data(kind, name(d), keys, null));
            }
        }
        for (ObjectNode kafka : kind("Kafka")) {
            for (String ca : List.of("-cluster-ca-cert", "-clients-ca-cert")) {
                data.add(new Data("Secret", name(kafka) + ca, Set.of("ca.crt", "ca.p12", "ca.password"), "Strimzi"));
            }
        }
        for (ObjectNode user : kind("KafkaUser")) {
            Set<String> keys = "tls".equals(user.path("spec").path("authentication").path("type").asText())
                    ? Set.of("ca.crt", "user.crt", "user.key", "user.p12", "user.password")
                    : Set.of("password", "sasl.jaas.config");
            data.add(new Data("Secret", name(user), keys, "Strimzi (KafkaUser)"));
        }
        for (ObjectNode certificate : kind("Certificate")) {
            data.add(new Data("Secret", certificate.path("spec").path("secretName").asText(),
                    Set.of("tls.crt", "tls.key", "ca.crt"), "cert-manager (Certificate " + name(certificate) + ")"));
        }
        return data;
    }

    /** Whether deploy/README.md names {@code name} in backticks (the list of what the operator of Relay provides). */
    static boolean documented(String name) {
        return Repository.read(Repository.ROOT.resolve("deploy/README.md")).contains("`" + name);
    }

    static List<JsonNode> list(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).toList();
    }
}
