package dev.qrexec.policy.conformance;

import java.util.List;

/**
 * The outcome of a conformance run.
 *
 * @param directories policy directories loaded
 * @param cases       requests evaluated
 * @param mismatches  every disagreement, in file order
 */
public record ConformanceReport(int directories, int cases, List<Mismatch> mismatches) {

    public ConformanceReport {
        mismatches = List.copyOf(mismatches);
    }

    public boolean passed() {
        return mismatches.isEmpty();
    }

    /** A summary line and the diffs of the first {@code limit} mismatches. */
    public String render(int limit) {
        StringBuilder out = new StringBuilder();
        out.append(cases - mismatches.size()).append('/').append(cases).append(" cases of ").append(directories)
                .append(" policy directories agree with the reference");
        if (!mismatches.isEmpty()) {
            out.append("; ").append(mismatches.size()).append(" mismatches");
            if (mismatches.size() > limit) {
                out.append(" (first ").append(limit).append(" shown)");
            }
            out.append(":\n");
            mismatches.stream().limit(limit).forEach(m -> out.append(m.diff()));
        } else {
            out.append('\n');
        }
        return out.toString();
    }
}
