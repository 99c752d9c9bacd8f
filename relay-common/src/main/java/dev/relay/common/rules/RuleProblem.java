package dev.relay.common.rules;

/**
 * One reason a rule set is refused.
 *
 * @param path    the offending rule and field, e.g. {@code routes[2].nextHop}; empty for the whole document
 * @param message what is wrong, e.g. {@code port must be 1..65535}
 */
public record RuleProblem(String path, String message) {

    @Override
    public String toString() {
        return path.isEmpty() ? message : path + ": " + message;
    }
}
