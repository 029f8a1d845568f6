package dev.qrexec.policy.explain;

import dev.qrexec.policy.Rule;

/**
 * How one rule fared against a request.
 *
 * @param rule         the rule
 * @param matched      whether all four columns matched
 * @param failedColumn the first column that did not match, or null when matched
 * @param why          the failing column's reason in words, or "" when matched
 */
public record RuleVerdict(Rule rule, boolean matched, Column failedColumn, String why) {

    /** The four columns of a rule that a request is matched against. */
    public enum Column {
        SERVICE("service"), ARGUMENT("argument"), SOURCE("source"), TARGET("target");

        private final String label;

        Column(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }
}
