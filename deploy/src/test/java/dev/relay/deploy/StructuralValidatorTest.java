package dev.relay.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The structural-schema rules on small schemas, one rule at a time (the real schemas: SchemaValidationTest). */
class StructuralValidatorTest {

    private static final StructuralValidator CRD = new StructuralValidator(Map.of(), true);

    @Test
    void shouldAllowTheObjectHeaderOfAnEmbeddedResourceButNothingElseUndeclared() {
        JsonNode schema = yaml("""
                type: object
                properties:
                  template:
                    type: object
                    x-kubernetes-embedded-resource: true
                    properties:
                      spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
                """);
        assertThat(CRD.validate(schema, yaml("template: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {any: 1}}"), ""))
                .isEmpty();
        assertThat(CRD.validate(schema, yaml("template: {apiVersion: v1, kind: Pod, status: {}}"), ""))
                .containsExactly("template.status: unknown field (not in the schema)");
    }

    @Test
    void shouldPruneUndeclaredFieldsInACrdButKeepPreservedAndMapValues() {
        JsonNode schema = yaml("""
                type: object
                properties:
                  labels: {type: object, additionalProperties: {type: string}}
                  config: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {known: {type: integer}}}
                  closed: {type: object}
                """);
        assertThat(CRD.validate(schema, yaml("{labels: {a: b}, config: {known: 1, other: x}}"), "")).isEmpty();
        assertThat(CRD.validate(schema, yaml("{labels: {a: 1}, config: {known: x}, closed: {x: 1}}"), ""))
                .containsExactlyInAnyOrder("labels.a: must be of type string, found number 1",
                        "config.known: must be of type integer, found string \"x\"",
                        "closed.x: unknown field (not in the schema)");
    }

    @Test
    void shouldJudgeOneOfBranchesAsValueValidationsOnly() {
        JsonNode schema = yaml("""
                type: object
                properties:
                  a: {type: string}
                  b: {type: string}
                oneOf:
                  - {properties: {a: {}}, required: [a]}
                  - {properties: {b: {}}, required: [b]}
                """);
        assertThat(CRD.validate(schema, yaml("{a: x}"), "")).isEmpty();
        assertThat(CRD.validate(schema, yaml("{a: x, b: y}"), "")).singleElement().asString()
                .startsWith("(root): matches 2 of oneOf");
        assertThat(CRD.validate(schema, yaml("{}"), "")).singleElement().asString().startsWith("(root): matches 0 of oneOf");
    }

    @Test
    void shouldLeaveBuiltInObjectsWithoutPropertiesOpenAndResolveReferences() {
        JsonNode components = yaml("""
                Raw: {type: object}
                Port: {type: object, properties: {port: {type: integer}}, required: [port]}
                """);
        StructuralValidator builtIn = new StructuralValidator(Map.of("Raw", components.get("Raw"), "Port", components.get("Port")), false);
        JsonNode schema = yaml("""
                type: object
                properties:
                  raw: {allOf: [{$ref: '#/components/schemas/Raw'}]}
                  ports: {type: array, items: {allOf: [{$ref: '#/components/schemas/Port'}]}}
                """);
        assertThat(builtIn.validate(schema, yaml("{raw: {anything: [1]}, ports: [{port: 1}]}"), "")).isEmpty();
        List<String> errors = builtIn.validate(schema, yaml("{ports: [{prot: 1}]}"), "");
        assertThat(errors).containsExactlyInAnyOrder("ports[0]: required field port is missing",
                "ports[0].prot: unknown field (not in the schema)");
    }

    private static JsonNode yaml(String text) {
        try {
            return Rendered.YAML.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
