package dev.qrexec.policy;

import dev.qrexec.policy.eval.Evaluator;
import dev.qrexec.policy.eval.RuleIndex;
import dev.qrexec.policy.explain.Explainer;
import dev.qrexec.policy.explain.Explanation;
import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.system.SystemInfo;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A loaded, immutable policy: the flat rule list in evaluation order and its index. Thread-safe;
 * a reload builds a new instance. A policy that failed to load is represented too
 * ({@link #denyAll}): it answers every request with a denial carrying the load error.
 *
 * <p>Load with {@link dev.qrexec.policy.load.PolicyLoader}.
 */
public final class Policy {

    private static final Logger LOG = System.getLogger(Policy.class.getName());

    private final List<Rule> rules;
    private final Evaluator evaluator;
    private final PolicyLoadException loadError;

    /** A policy of these rules; {@code rules.get(i).index()} must be {@code i}. */
    public Policy(List<Rule> rules) {
        this.rules = List.copyOf(rules);
        for (int i = 0; i < this.rules.size(); i++) {
            if (this.rules.get(i).index() != i) {
                throw new IllegalArgumentException("rule " + i + " has index " + this.rules.get(i).index());
            }
        }
        this.evaluator = new Evaluator(new RuleIndex(this.rules), this.rules);
        this.loadError = null;
    }

    private Policy(PolicyLoadException loadError) {
        this.rules = List.of();
        this.evaluator = new Evaluator(new RuleIndex(List.of()), List.of());
        this.loadError = loadError;
    }

    /** The policy in force when loading failed: every request is denied with the load error. */
    public static Policy denyAll(PolicyLoadException loadError) {
        return new Policy(Objects.requireNonNull(loadError, "loadError"));
    }

    /** The rules in evaluation order (empty for a policy that failed to load). */
    public List<Rule> rules() {
        return rules;
    }

    /** Why this policy denies everything, if it failed to load. */
    public Optional<PolicyLoadException> loadError() {
        return Optional.ofNullable(loadError);
    }

    /**
     * Decides one request (spec 5). Never throws for any request or system info: where the
     * reference crashes, and on internal errors, the answer is a logged, quiet denial.
     */
    public Decision evaluate(PolicyRequest request, SystemInfo system) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(system, "system");
        if (loadError != null) {
            return loadErrorDenial();
        }
        try {
            return evaluator.evaluate(request, system);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "internal error evaluating " + request + "; denying", e);
            return new Decision.Deny("internal error: " + e, false, false, null, null);
        }
    }

    /** Decides the request and lists every rule considered, with the column that failed for each. */
    public Explanation explain(PolicyRequest request, SystemInfo system) {
        Decision decision = evaluate(request, system);
        if (loadError != null) {
            return new Explanation(request, List.of(), decision);
        }
        return Explainer.explain(rules, request, system, decision);
    }

    private Decision loadErrorDenial() {
        // a syntax error does not notify; a refused file name or unreadable file does (spec 1.6)
        return new Decision.Deny(loadError.getMessage(), loadError.file() == null, false, null, null);
    }

    @Override
    public String toString() {
        return loadError != null ? "Policy[failed: " + loadError.getMessage() + "]" : "Policy[" + rules.size() + " rules]";
    }
}
