package dev.relay.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The schemas kept in {@code deploy/schemas/} (provenance in its README), indexed by apiVersion and kind. Each
 * directory is one source: CRD files ({@code .yaml}/{@code .yml}; every served version of every CRD), Kubernetes
 * OpenAPI v3 documents ({@code .json} with {@code components}; every component that names its group/version/kind),
 * or one CRD version's schema alone ({@code <group>/<Kind>_<version>.json}). A kind found in several
 * sources (Strimzi 0.49 and 1.2) must satisfy each of them: the manifests are meant to apply on both.
 */
final class SchemaCatalog {

    static final Path DIR = Repository.ROOT.resolve("deploy/schemas");
    static final String OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

    /** One schema of one apiVersion/kind, with the validator that knows its document's $ref targets. */
    record Entry(String source, JsonNode schema, StructuralValidator validator, boolean crd) {
    }

    private static SchemaCatalog repository;

    private final Map<String, List<Entry>> byType = new LinkedHashMap<>();
    private JsonNode objectMeta;
    private StructuralValidator metaValidator;

    static synchronized SchemaCatalog repository() {
        if (repository == null) {
            repository = load(DIR);
        }
        return repository;
    }

    static SchemaCatalog load(Path dir) {
        SchemaCatalog catalog = new SchemaCatalog();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                String name = file.getFileName().toString();
                String source = dir.relativize(file).getName(0).toString();
                if (name.endsWith(".json")) {
                    JsonNode json = new ObjectMapper().readTree(file.toFile());
                    if (json.has("components")) {
                        catalog.addOpenApi(source, json);
                    } else {
                        catalog.addBareSchema(source, file, json);
                    }
                } else if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                    YAMLMapper yaml = new YAMLMapper();
                    try (var docs = yaml.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile())) {
                        while (docs.hasNext()) {
                            catalog.addCrd(source, docs.next());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (catalog.objectMeta == null) {
            throw new IllegalStateException(dir + ": no Kubernetes OpenAPI document with " + OBJECT_META);
        }
        return catalog;
    }

    private void addOpenApi(String source, JsonNode document) {
        Map<String, JsonNode> components = new HashMap<>();
        document.path("components").path("schemas").fields().forEachRemaining(e -> components.put(e.getKey(), e.getValue()));
        StructuralValidator validator = new StructuralValidator(components, false);
        if (objectMeta == null && components.containsKey(OBJECT_META)) {
            objectMeta = components.get(OBJECT_META);
            metaValidator = validator;
        }
        for (JsonNode schema : components.values()) {
            for (JsonNode gvk : schema.path("x-kubernetes-group-version-kind")) {
                String group = gvk.path("group").asText();
                String apiVersion = group.isEmpty() ? gvk.path("version").asText() : group + "/" + gvk.path("version").asText();
                String type = apiVersion + "/" + gvk.path("kind").asText();
                List<Entry> entries = byType.computeIfAbsent(type, t -> new ArrayList<>());
                // the same built-in type appears in several documents of one source: keep one per source
                if (entries.stream().noneMatch(e -> e.source().equals(source))) {
                    entries.add(new Entry(source, schema, validator, false));
                }
            }
        }
    }

    private void addCrd(String source, JsonNode crd) {
        if (crd == null || !"CustomResourceDefinition".equals(crd.path("kind").asText())) {
            return;
        }
        JsonNode spec = crd.path("spec");
        for (JsonNode version : spec.path("versions")) {
            if (!version.path("served").asBoolean(false)) {
                continue;
            }
            String type = spec.path("group").asText() + "/" + version.path("name").asText() + "/"
                    + spec.path("names").path("kind").asText();
            JsonNode schema = version.path("schema").path("openAPIV3Schema");
            byType.computeIfAbsent(type, t -> new ArrayList<>())
                    .add(new Entry(source, schema, new StructuralValidator(Map.of(), true), true));
        }
    }

    /**
     * A CRD version's openAPIV3Schema on its own, as a JSON file named {@code <group>/<Kind>_<version>.json} (the
     * layout of a CRD catalog that converts CRDs to JSON; the README names the CRD release it was converted from).
     */
    private void addBareSchema(String source, Path file, JsonNode schema) {
        String name = file.getFileName().toString();
        int cut = name.lastIndexOf('_');
        if (cut < 0 || file.getParent() == null) {
            throw new IllegalStateException(file + ": a bare schema must be named <group>/<Kind>_<version>.json");
        }
        String type = file.getParent().getFileName() + "/" + name.substring(cut + 1, name.length() - ".json".length())
                + "/" + name.substring(0, cut);
        byType.computeIfAbsent(type, t -> new ArrayList<>())
                .add(new Entry(source, schema, new StructuralValidator(Map.of(), true), true));
    }

    /** The sources that define {@code apiVersion/kind}; empty when none does. */
    List<Entry> schemas(String apiVersion, String kind) {
        return byType.getOrDefault(apiVersion + "/" + kind, List.of());
    }

    /** Every violation, as {@code Kind name [source] path: what}; a document whose kind has no schema is one. */
    List<String> validate(JsonNode object) {
        String apiVersion = object.path("apiVersion").asText();
        String kind = object.path("kind").asText();
        String label = kind + " " + object.path("metadata").path("name").asText("(unnamed)");
        List<Entry> entries = schemas(apiVersion, kind);
        if (entries.isEmpty()) {
            return List.of(label + ": no schema for apiVersion " + apiVersion + " kind " + kind
                    + " in deploy/schemas (wrong apiVersion/kind, or a schema to add with its provenance)");
        }
        List<String> errors = new ArrayList<>();
        for (Entry entry : entries) {
            List<String> found = new ArrayList<>();
            if (entry.crd()) {
                // apiVersion and kind (matched above) and metadata are implicit at the root of every custom
                // resource, whether the CRD lists them or not; the API server judges metadata as ObjectMeta
                ObjectNode body = object.deepCopy();
                body.remove(List.of("apiVersion", "kind", "metadata"));
                found.addAll(entry.validator().validate(entry.schema(), body, ""));
                found.addAll(metaValidator.validate(objectMeta, object.path("metadata"), "metadata"));
            } else {
                found.addAll(entry.validator().validate(entry.schema(), object, ""));
            }
            found.forEach(f -> errors.add(label + " [" + entry.source() + "] " + f));
        }
        return errors;
    }
}
