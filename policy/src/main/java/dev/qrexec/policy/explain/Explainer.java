package dev.qrexec.policy.explain;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.eval.Evaluator;
import dev.qrexec.policy.eval.ReferenceCrash;
import dev.qrexec.policy.eval.RequestContext;
import dev.qrexec.policy.eval.TokenMatcher;
import dev.qrexec.policy.system.SystemInfo;
import java.util.ArrayList;
import java.util.List;

/** Builds {@link Explanation}s by walking the whole rule list (not the index: it reports every rule). */
public final class Explainer {

    private Explainer() {
    }

    public static Explanation explain(List<Rule> rules, PolicyRequest request, SystemInfo system, Decision decision) {
        Evaluator.Built built = Evaluator.build(request, system);
        if (built.denial() != null) {
            return new Explanation(request, List.of(), decision);
        }
        RequestContext ctx = built.context();
        List<RuleVerdict> verdicts = new ArrayList<>();
        for (Rule rule : rules) {
            RuleVerdict v = verdict(rule, ctx);
            verdicts.add(v);
            if (v.matched()) {
                break;
            }
        }
        return new Explanation(request, verdicts, decision);
    }

    private static RuleVerdict verdict(Rule rule, RequestContext ctx) {
        if (!rule.matchesService(ctx.service())) {
            return new RuleVerdict(rule, false, RuleVerdict.Column.SERVICE,
                    "rule is for " + rule.service() + ", request is for " + ctx.service());
        }
        if (!rule.matchesArgument(ctx.argument())) {
            return new RuleVerdict(rule, false, RuleVerdict.Column.ARGUMENT,
                    "rule is for " + rule.argument() + ", request has " + ctx.argument());
        }
        try {
            if (!TokenMatcher.matchesSource(rule.source(), ctx)) {
                return new RuleVerdict(rule, false, RuleVerdict.Column.SOURCE,
                        rule.source() + " does not match source " + ctx.source());
            }
            if (!TokenMatcher.matchesTarget(rule.target(), ctx)) {
                return new RuleVerdict(rule, false, RuleVerdict.Column.TARGET,
                        rule.target() + " does not match target " + ctx.target());
            }
        } catch (ReferenceCrash crash) {
            return new RuleVerdict(rule, true, null, "evaluation stops here: " + crash.getMessage());
        }
        return new RuleVerdict(rule, true, null, "");
    }
}
