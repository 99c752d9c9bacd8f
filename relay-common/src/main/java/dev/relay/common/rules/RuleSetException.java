package dev.relay.common.rules;

import java.util.List;
import java.util.stream.Collectors;

/** A rule set that cannot be used: unparseable or invalid; carries every problem found. */
public class RuleSetException extends IllegalArgumentException {

    private final transient List<RuleProblem> problems;

    public RuleSetException(List<RuleProblem> problems) {
        super(problems.stream().map(RuleProblem::toString).collect(Collectors.joining("; ")));
        this.problems = List.copyOf(problems);
    }

    public List<RuleProblem> problems() {
        return problems;
    }
}
