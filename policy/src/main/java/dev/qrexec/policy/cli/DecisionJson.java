package dev.qrexec.policy.cli;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.conformance.ExpectedFields;
import dev.qrexec.policy.explain.Explanation;
import dev.qrexec.policy.explain.RuleVerdict;
import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.reply.DaemonReply;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A decision as a JSON object in the shape of the conformance corpus's {@code expected} objects
 * (keys sorted like the corpus), plus {@code daemon_reply}: so {@code eval} output can be compared
 * with the corpus line by line.
 */
final class DecisionJson {

    private DecisionJson() {
    }

    static Map<String, Object> of(Policy policy, Decision decision, DaemonReply reply) {
        Map<String, Object> m = new TreeMap<>();
        if (policy.loadError().isPresent()) {
            PolicyLoadException e = policy.loadError().get();
            m.put("result", "load-error");
            m.put("message", e.getMessage());
            m.put("daemon_reply", DaemonReply.DENY);
            return m;
        }
        if (decision instanceof Decision.Allow a) {
            ExpectedFields.putAllow(m, a);
        } else if (decision instanceof Decision.Ask a) {
            ExpectedFields.putAsk(m, a);
        } else {
            Decision.Deny d = (Decision.Deny) decision;
            m.put("result", "deny");
            m.put("message", d.message());
            m.put("notify", d.notifyUser());
            if (d.requestError()) {
                m.put("request_error", true);
            }
            if (d.isReferenceCrash()) {
                m.put("reference_crash", d.referenceCrash());
            }
        }
        // null: an ask in normal mode, whose reply depends on the person at the prompt.
        m.put("daemon_reply", reply.isPending() ? null : reply.text());
        return m;
    }

    /** The rules considered for a request and why each did or did not match. */
    static List<Map<String, Object>> explain(Explanation explanation) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (RuleVerdict v : explanation.verdicts()) {
            Rule r = v.rule();
            Map<String, Object> m = new TreeMap<>();
            m.put("rule", r.location().toString());
            m.put("text", r.text());
            m.put("matched", v.matched());
            if (!v.matched()) {
                m.put("column", v.failedColumn().label());
                m.put("why", v.why());
            }
            out.add(m);
        }
        return out;
    }
}
