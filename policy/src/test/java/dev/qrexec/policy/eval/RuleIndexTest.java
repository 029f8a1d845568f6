package dev.qrexec.policy.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.Fixtures;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index must give exactly the first match a linear scan gives, with interleaved wildcard rules. */
class RuleIndexTest {

    private static final SystemInfo SYSTEM = Fixtures.desktop();

    @TempDir
    Path dir;

    @Test
    void interleavedWildcardRulesKeepFirstMatchOrder() throws Exception {
        Policy policy = Fixtures.policy(dir, String.join("\n",
                "svc +a work vault deny",
                "* * work vault allow",
                "svc * work vault ask",
                "svc +a work vault allow",
                "other * work vault allow", ""));
        assertEquals(1, line(policy, "svc", "+a"));
        assertEquals(2, line(policy, "svc", "+b"));
        assertEquals(2, line(policy, "nosvc", "+a"));
    }

    @Test
    void candidatesWalkForwardsAndBackwardsInRuleOrder() throws Exception {
        Policy policy = Fixtures.policy(dir, String.join("\n",
                "* * a b allow", "s +x a b allow", "s * a b allow", "* * a b deny", "s +x a b deny", "s +y a b deny", ""));
        RuleIndex.Candidates c = new RuleIndex(policy.rules()).candidates("s", "+x");
        List<Integer> forward = new ArrayList<>();
        c.fromStart();
        for (Rule r = c.next(); r != null; r = c.next()) {
            forward.add(r.index());
        }
        List<Integer> backward = new ArrayList<>();
        c.fromEnd();
        for (Rule r = c.previous(); r != null; r = c.previous()) {
            backward.add(r.index());
        }
        assertEquals(List.of(0, 1, 2, 3, 4), forward);
        assertEquals(List.of(4, 3, 2, 1, 0), backward);
    }

    @Test
    void randomPoliciesAgreeWithALinearScan() throws Exception {
        Random random = new Random(42);
        String[] services = {"*", "a", "b"};
        String[] args = {"*", "+", "+x", "+y"};
        String[] sources = {"work", "@anyvm", "*", "personal", "@tag:work"};
        String[] targets = {"vault", "@anyvm", "*", "@default", "work"};
        for (int round = 0; round < 40; round++) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 30; i++) {
                String svc = services[random.nextInt(services.length)];
                String arg = svc.equals("*") ? "*" : args[random.nextInt(args.length)];
                String tgt = targets[random.nextInt(targets.length)];
                text.append(svc).append(' ').append(arg).append(' ').append(sources[random.nextInt(sources.length)])
                        .append(' ').append(tgt).append(tgt.equals("@default") ? " deny\n" : " allow\n");
            }
            Path d = dir.resolve("r" + round);
            Policy policy = Fixtures.policy(d, text.toString());
            for (String svc : new String[] {"a", "b", "c"}) {
                for (String arg : new String[] {"+", "+x", "+y", "+z"}) {
                    for (String src : new String[] {"work", "personal", "vault"}) {
                        PolicyRequest request = PolicyRequest.of(svc, arg, src, "vault");
                        Decision got = policy.evaluate(request, SYSTEM);
                        Rule linear = null;
                        var ctx = Evaluator.build(request, SYSTEM).context();
                        for (Rule r : policy.rules()) {
                            if (r.matchesService(svc) && r.matchesArgument(arg) && TokenMatcher.matchesSource(r.source(), ctx)
                                    && TokenMatcher.matchesTarget(r.target(), ctx)) {
                                linear = r;
                                break;
                            }
                        }
                        assertEquals(linear == null ? null : linear.index(),
                                got.rule().map(Rule::index).orElse(null), request + "\n" + text);
                    }
                }
            }
        }
    }

    private static int line(Policy policy, String svc, String arg) {
        return policy.evaluate(PolicyRequest.of(svc, arg, "work", "vault"), SYSTEM).rule().orElseThrow().location().line();
    }
}
