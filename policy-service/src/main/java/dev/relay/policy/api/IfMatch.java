package dev.relay.policy.api;

import java.util.OptionalLong;

/**
 * The {@code If-Match} request header of {@code PUT /api/rules} (RFC 9110 §13.1.1): the rule-set revision the
 * client read, as the strong ETag {@code GET} answered ({@code "12"}). Only one tag: the rules have one current
 * revision. {@code *} and an absent header mean "whatever is in force".
 */
final class IfMatch {

    private IfMatch() {
    }

    /** @throws IllegalArgumentException with a message for the client, when the header is not one such ETag */
    static OptionalLong parse(String header) {
        if (header == null || header.isBlank() || header.strip().equals("*")) {
            return OptionalLong.empty();
        }
        String tag = header.strip();
        if (tag.startsWith("W/")) {
            throw new IllegalArgumentException("If-Match needs the strong ETag of GET /api/rules, not a weak one: "
                    + tag);
        }
        if (tag.length() >= 2 && tag.startsWith("\"") && tag.endsWith("\"")) {
            tag = tag.substring(1, tag.length() - 1);
        }
        try {
            long revision = Long.parseLong(tag);
            if (revision < -1) {
                throw new NumberFormatException();
            }
            return OptionalLong.of(revision);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("If-Match must be the one ETag of GET /api/rules, e.g. \"12\"");
        }
    }
}
