package dev.qrexec.policy.eval;

import dev.qrexec.policy.Rule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rules grouped by service, then argument, so that a request only looks at rules that can match
 * its service and argument. A request's candidates are three lists, each in rule order: rules for
 * (service, argument), for (service, {@code *}) and for ({@code *}, {@code *}). They interleave
 * in the policy, so {@link Candidates} merges them by rule index: first-match order is preserved.
 * Immutable after construction; shared by all threads.
 */
public final class RuleIndex {

    private static final CompiledRule[] NONE = new CompiledRule[0];

    private final CompiledRule[] anyService;
    private final Map<String, ServiceRules> byService;

    private record ServiceRules(CompiledRule[] anyArgument, Map<String, CompiledRule[]> byArgument) {
    }

    public RuleIndex(List<Rule> rules) {
        List<Rule> wildcard = new ArrayList<>();
        Map<String, List<Rule>> anyArg = new HashMap<>();
        Map<String, Map<String, List<Rule>>> specific = new HashMap<>();
        for (Rule r : rules) {
            if (r.service() == null) {
                wildcard.add(r);
            } else if (r.argument() == null) {
                anyArg.computeIfAbsent(r.service(), k -> new ArrayList<>()).add(r);
                specific.computeIfAbsent(r.service(), k -> new HashMap<>());
            } else {
                specific.computeIfAbsent(r.service(), k -> new HashMap<>())
                        .computeIfAbsent(r.argument(), k -> new ArrayList<>()).add(r);
            }
        }
        this.anyService = compile(wildcard);
        Map<String, ServiceRules> services = new HashMap<>(specific.size() * 2);
        for (Map.Entry<String, Map<String, List<Rule>>> e : specific.entrySet()) {
            Map<String, CompiledRule[]> args = new HashMap<>(e.getValue().size() * 2);
            e.getValue().forEach((arg, list) -> args.put(arg, compile(list)));
            services.put(e.getKey(), new ServiceRules(compile(anyArg.getOrDefault(e.getKey(), List.of())), args));
        }
        this.byService = services;
    }

    /** Allocated one after the other, so that a list's rules are close in memory. */
    private static CompiledRule[] compile(List<Rule> rules) {
        CompiledRule[] out = new CompiledRule[rules.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = new CompiledRule(rules.get(i));
        }
        return out;
    }

    /** The rules that can match this service and argument, in policy order. */
    public Candidates candidates(String service, String argument) {
        ServiceRules s = byService.get(service);
        if (s == null) {
            return new Candidates(NONE, NONE, anyService);
        }
        CompiledRule[] exact = s.byArgument().get(argument);
        return new Candidates(exact == null ? NONE : exact, s.anyArgument(), anyService);
    }

    /**
     * Three rule lists, each sorted by rule index, read as one merged list: forwards for first
     * match, backwards for the ask-candidate walk. Not thread-safe (one per evaluation).
     */
    public static final class Candidates {
        private final CompiledRule[] a;
        private final CompiledRule[] b;
        private final CompiledRule[] c;
        private int ia;
        private int ib;
        private int ic;

        Candidates(CompiledRule[] a, CompiledRule[] b, CompiledRule[] c) {
            this.a = a;
            this.b = b;
            this.c = c;
        }

        public int size() {
            return a.length + b.length + c.length;
        }

        /** Positions the cursor before the first rule. */
        public Candidates fromStart() {
            ia = 0;
            ib = 0;
            ic = 0;
            return this;
        }

        /** The next rule in policy order, or null at the end. */
        public Rule next() {
            CompiledRule r = nextCompiled();
            return r == null ? null : r.rule;
        }

        /** The previous rule in policy order, or null at the start. */
        public Rule previous() {
            CompiledRule r = previousCompiled();
            return r == null ? null : r.rule;
        }

        CompiledRule nextCompiled() {
            // the common cases first: only one list left, no merging needed
            if (ib >= b.length && ic >= c.length) {
                return ia < a.length ? a[ia++] : null;
            }
            if (ia >= a.length && ib >= b.length) {
                return c[ic++];
            }
            int xa = ia < a.length ? a[ia].index : Integer.MAX_VALUE;
            int xb = ib < b.length ? b[ib].index : Integer.MAX_VALUE;
            int xc = ic < c.length ? c[ic].index : Integer.MAX_VALUE;
            if (xa < xb && xa < xc) {
                return a[ia++];
            }
            if (xb < xc) {
                return b[ib++];
            }
            return xc == Integer.MAX_VALUE ? null : c[ic++];
        }

        /** Positions the cursor after the last rule. */
        public Candidates fromEnd() {
            ia = a.length - 1;
            ib = b.length - 1;
            ic = c.length - 1;
            return this;
        }

        CompiledRule previousCompiled() {
            int xa = ia >= 0 ? a[ia].index : -1;
            int xb = ib >= 0 ? b[ib].index : -1;
            int xc = ic >= 0 ? c[ic].index : -1;
            if (xa > xb && xa > xc) {
                return a[ia--];
            }
            if (xb > xc) {
                return b[ib--];
            }
            return xc < 0 ? null : c[ic--];
        }
    }
}
