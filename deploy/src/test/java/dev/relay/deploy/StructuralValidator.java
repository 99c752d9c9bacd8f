package dev.relay.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Validates one value against an OpenAPI v3 schema the way the API server judges an object sent with strict field
 * validation (the default of {@code kubectl apply} since 1.27), for the keywords that CRD structural schemas and the
 * Kubernetes OpenAPI v3 documents use: {@code type}, {@code properties}, {@code additionalProperties},
 * {@code required}, {@code enum}, {@code pattern}, lengths and bounds, {@code items}, {@code allOf}/{@code anyOf}/
 * {@code oneOf}/{@code not}, {@code $ref} into the document's {@code components/schemas},
 * {@code x-kubernetes-int-or-string}, {@code x-kubernetes-preserve-unknown-fields} and
 * {@code x-kubernetes-embedded-resource}.
 *
 * <p>Unknown fields: in a CRD (structural schema) every field that no {@code properties} entry and no
 * {@code additionalProperties} declares is pruned by the API server, so it is an error unless
 * {@code x-kubernetes-preserve-unknown-fields} keeps it. In the built-in types an object schema without properties
 * (RawExtension, FieldsV1) accepts anything, one with properties rejects the rest. Inside
 * {@code anyOf}/{@code oneOf}/{@code not} branches (value validations that cannot declare fields in a structural
 * schema) unknown fields are not judged; an {@code allOf} branch that is a {@code $ref} (how the Kubernetes documents
 * wrap a field's type) is the field's own schema and judged fully.
 *
 * <p>Not evaluated: CEL rules ({@code x-kubernetes-validations}) and {@code format}; a {@code null} value counts as
 * unset (the API server drops it). Why a walker and not a general JSON-schema library: ADR 0010.
 */
final class StructuralValidator {

    private static final String REF_PREFIX = "#/components/schemas/";

    private final Map<String, JsonNode> components;
    private final boolean structural;

    /**
     * @param components the {@code components/schemas} of the document the schema comes from ({@code $ref} targets)
     * @param structural true for a CRD's schema (undeclared fields are pruned, hence errors), false for built-in types
     */
    StructuralValidator(Map<String, JsonNode> components, boolean structural) {
        this.components = components;
        this.structural = structural;
    }

    /** Every violation of {@code schema} by {@code value}, as {@code path: what}; empty when valid. */
    List<String> validate(JsonNode schema, JsonNode value, String path) {
        List<String> errors = new ArrayList<>();
        check(schema, value, path, true, errors);
        return errors;
    }

    private void check(JsonNode schema, JsonNode value, String path, boolean strict, List<String> errors) {
        schema = resolve(schema);
        if (value == null || value.isNull() || value.isMissingNode() || schema == null) {
            return;
        }
        String at = path.isEmpty() ? "(root)" : path;
        if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
            if (!value.isTextual() && !isInteger(value)) {
                errors.add(at + ": must be an integer or a string, found " + describe(value));
                return;
            }
        } else if (schema.has("type") && !typeMatches(schema.get("type").asText(), value)) {
            errors.add(at + ": must be of type " + schema.get("type").asText() + ", found " + describe(value));
            return;
        }
        if (schema.has("enum") && !inEnum(schema.get("enum"), value)) {
            errors.add(at + ": " + value + " is not one of " + schema.get("enum"));
        }
        if (value.isTextual()) {
            checkString(schema, value.asText(), at, errors);
        }
        if (value.isNumber()) {
            checkNumber(schema, value.doubleValue(), at, errors);
        }
        if (value.isArray()) {
            if (schema.has("minItems") && value.size() < schema.get("minItems").asInt()) {
                errors.add(at + ": fewer than " + schema.get("minItems").asInt() + " items");
            }
            if (schema.has("maxItems") && value.size() > schema.get("maxItems").asInt()) {
                errors.add(at + ": more than " + schema.get("maxItems").asInt() + " items");
            }
            if (schema.has("items")) {
                for (int i = 0; i < value.size(); i++) {
                    JsonNode item = value.get(i);
                    String label = item.path("name").isTextual() ? item.get("name").asText() : String.valueOf(i);
                    check(schema.get("items"), item, path + "[" + label + "]", strict, errors);
                }
            }
        }
        if (value.isObject()) {
            checkObject(schema, value, path, at, strict, errors);
        }
        checkCombinators(schema, value, path, at, strict, errors);
    }

    private void checkObject(JsonNode schema, JsonNode value, String path, String at, boolean strict, List<String> errors) {
        for (JsonNode required : schema.path("required")) {
            if (!value.has(required.asText())) {
                errors.add(at + ": required field " + required.asText() + " is missing");
            }
        }
        JsonNode properties = schema.get("properties");
        JsonNode additional = schema.get("additionalProperties");
        boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        boolean embedded = schema.path("x-kubernetes-embedded-resource").asBoolean(false);
        boolean closed = structural ? true : properties != null || (additional != null && additional.isBoolean()
                && !additional.asBoolean());
        for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
            if (properties != null && properties.has(field.getKey())) {
                check(properties.get(field.getKey()), field.getValue(), child, strict, errors);
            } else if (additional != null && additional.isObject()) {
                check(additional, field.getValue(), child, strict, errors);
            } else if (additional != null && additional.isBoolean() && additional.asBoolean()) {
                continue;
            } else if (preserve || (embedded && (field.getKey().equals("apiVersion") || field.getKey().equals("kind")
                    || field.getKey().equals("metadata")))) {
                continue;
            } else if (strict && closed) {
                errors.add(child + ": unknown field (not in the schema)");
            }
        }
        if (schema.has("minProperties") && value.size() < schema.get("minProperties").asInt()) {
            errors.add(at + ": fewer than " + schema.get("minProperties").asInt() + " properties");
        }
        if (schema.has("maxProperties") && value.size() > schema.get("maxProperties").asInt()) {
            errors.add(at + ": more than " + schema.get("maxProperties").asInt() + " properties");
        }
    }

    private void checkCombinators(JsonNode schema, JsonNode value, String path, String at, boolean strict,
                                  List<String> errors) {
        for (JsonNode branch : schema.path("allOf")) {
            // {allOf: [{$ref}]} is how the Kubernetes documents give a field its type: judged fully
            check(branch, value, path, strict && branch.has("$ref"), errors);
        }
        if (schema.has("anyOf")) {
            List<String> first = null;
            boolean any = false;
            for (JsonNode branch : schema.get("anyOf")) {
                List<String> e = new ArrayList<>();
                check(branch, value, path, branch.has("$ref") && strict, e);
                any |= e.isEmpty();
                first = first == null ? e : first;
            }
            if (!any) {
                errors.add(at + ": matches none of anyOf " + brief(schema.get("anyOf")) + " (first: " + first + ")");
            }
        }
        if (schema.has("oneOf")) {
            int matching = 0;
            for (JsonNode branch : schema.get("oneOf")) {
                List<String> e = new ArrayList<>();
                check(branch, value, path, branch.has("$ref") && strict, e);
                matching += e.isEmpty() ? 1 : 0;
            }
            if (matching != 1) {
                errors.add(at + ": matches " + matching + " of oneOf " + brief(schema.get("oneOf"))
                        + ", exactly one required");
            }
        }
        if (schema.has("not")) {
            List<String> e = new ArrayList<>();
            check(schema.get("not"), value, path, false, e);
            if (e.isEmpty()) {
                errors.add(at + ": matches the schema under not " + brief(schema.get("not")));
            }
        }
    }

    private static void checkString(JsonNode schema, String s, String at, List<String> errors) {
        if (schema.has("pattern")) {
            Pattern p;
            try {
                p = Pattern.compile(schema.get("pattern").asText());
            } catch (PatternSyntaxException e) {
                throw new IllegalStateException("schema pattern at " + at + " is not a Java regex: " + e.getMessage(), e);
            }
            if (!p.matcher(s).find()) {
                errors.add(at + ": \"" + s + "\" does not match " + schema.get("pattern").asText());
            }
        }
        int length = s.codePointCount(0, s.length());
        if (schema.has("minLength") && length < schema.get("minLength").asInt()) {
            errors.add(at + ": shorter than " + schema.get("minLength").asInt());
        }
        if (schema.has("maxLength") && length > schema.get("maxLength").asInt()) {
            errors.add(at + ": longer than " + schema.get("maxLength").asInt());
        }
    }

    private static void checkNumber(JsonNode schema, double n, String at, List<String> errors) {
        if (schema.has("minimum")) {
            double min = schema.get("minimum").asDouble();
            boolean exclusive = schema.path("exclusiveMinimum").asBoolean(false);
            if (exclusive ? n <= min : n < min) {
                errors.add(at + ": " + n + " is below the minimum " + min);
            }
        }
        if (schema.has("maximum")) {
            double max = schema.get("maximum").asDouble();
            boolean exclusive = schema.path("exclusiveMaximum").asBoolean(false);
            if (exclusive ? n >= max : n > max) {
                errors.add(at + ": " + n + " is above the maximum " + max);
            }
        }
    }

    private JsonNode resolve(JsonNode schema) {
        int hops = 0;
        while (schema != null && schema.has("$ref")) {
            String ref = schema.get("$ref").asText();
            if (!ref.startsWith(REF_PREFIX) || !components.containsKey(ref.substring(REF_PREFIX.length()))) {
                throw new IllegalStateException("unresolvable $ref " + ref);
            }
            schema = components.get(ref.substring(REF_PREFIX.length()));
            if (++hops > 32) {
                throw new IllegalStateException("$ref loop at " + ref);
            }
        }
        return schema;
    }

    static boolean typeMatches(String type, JsonNode value) {
        return switch (type) {
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "string" -> value.isTextual();
            case "boolean" -> value.isBoolean();
            case "integer" -> isInteger(value);
            case "number" -> value.isNumber();
            default -> throw new IllegalStateException("unknown schema type " + type);
        };
    }

    private static boolean isInteger(JsonNode value) {
        return value.isIntegralNumber() || (value.isFloatingPointNumber() && value.doubleValue() == Math.rint(value.doubleValue()));
    }

    private static boolean inEnum(JsonNode values, JsonNode value) {
        for (JsonNode v : values) {
            if (v.equals(value) || (v.isNumber() && value.isNumber() && v.decimalValue().compareTo(value.decimalValue()) == 0)) {
                return true;
            }
        }
        return false;
    }

    private static String describe(JsonNode value) {
        String type = value.isObject() ? "object" : value.isArray() ? "array" : value.isTextual() ? "string"
                : value.isBoolean() ? "boolean" : value.isNumber() ? "number" : value.getNodeType().toString();
        String text = value.toString();
        return type + " " + (text.length() > 60 ? text.substring(0, 57) + "..." : text);
    }

    private static String brief(JsonNode node) {
        String text = node.toString();
        return text.length() > 120 ? text.substring(0, 117) + "..." : text;
    }
}
