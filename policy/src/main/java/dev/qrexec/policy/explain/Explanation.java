package dev.qrexec.policy.explain;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.PolicyRequest;
import java.util.List;

/**
 * Why a request got its decision: the rules considered, in order, each with its verdict, up to
 * and including the one that matched.
 *
 * @param request  the request
 * @param verdicts one entry per rule considered
 * @param decision the decision
 */
public record Explanation(PolicyRequest request, List<RuleVerdict> verdicts, Decision decision) {

    public Explanation {
        verdicts = List.copyOf(verdicts);
    }

    /** A readable multi-line report. */
    public String render() {
        StringBuilder out = new StringBuilder();
        out.append("request: ").append(request).append('\n');
        for (RuleVerdict v : verdicts) {
            out.append(v.matched() ? "  MATCH " : "  no    ").append(v.rule().location()).append(": ")
                    .append(v.rule().text()).append('\n');
            if (!v.matched()) {
                out.append("        ").append(v.failedColumn().label()).append(": ").append(v.why()).append('\n');
            }
        }
        out.append("decision: ").append(decision.reason()).append('\n');
        return out.toString();
    }
}
