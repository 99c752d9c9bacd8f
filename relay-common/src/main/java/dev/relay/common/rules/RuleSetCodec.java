package dev.relay.common.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Reads and writes {@link RuleSet} JSON. Unknown fields are refused (a misspelt {@code "deny"} must not
 * silently drop a deny list). {@link #parseValid} also runs {@link RuleSetValidator}.
 */
public final class RuleSetCodec {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY);

    private RuleSetCodec() {
    }

    /** @throws RuleSetException when the text is not a rule-set document (the problem names the field) */
    public static RuleSet parse(byte[] json) {
        if (json == null || json.length == 0) {
            throw new RuleSetException(List.of(new RuleProblem("", "empty document")));
        }
        try {
            RuleSet set = JSON.readValue(json, RuleSet.class);
            if (set == null) {
                throw new RuleSetException(List.of(new RuleProblem("", "empty document")));
            }
            return set;
        } catch (JsonMappingException e) {
            throw new RuleSetException(List.of(new RuleProblem(path(e), e.getOriginalMessage())));
        } catch (IOException e) {
            String message = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
            throw new RuleSetException(List.of(new RuleProblem("", "not JSON: " + message)));
        }
    }

    public static RuleSet parse(String json) {
        return parse(json == null ? null : json.getBytes(StandardCharsets.UTF_8));
    }

    /** Parses and validates. @throws RuleSetException with every problem */
    public static RuleSet parseValid(byte[] json) {
        RuleSet set = parse(json);
        List<RuleProblem> problems = RuleSetValidator.validate(set);
        if (!problems.isEmpty()) {
            throw new RuleSetException(problems);
        }
        return set;
    }

    public static byte[] encode(RuleSet set) {
        try {
            return JSON.writeValueAsBytes(set);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Jackson's reference path as {@code routes[2].nextHop}. */
    private static String path(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                out.append(out.length() == 0 ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }
}
