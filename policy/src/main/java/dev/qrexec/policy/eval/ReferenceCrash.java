package dev.qrexec.policy.eval;

import dev.qrexec.policy.Rule;

/**
 * The reference engine would crash at this point of the evaluation (spec 5, 10); we deny quietly
 * instead. The message names the Python exception the reference raises and why.
 */
public final class ReferenceCrash extends Exception {
    private static final long serialVersionUID = 1L;

    private final String pythonException;
    private final String detail;
    private final transient Rule rule;

    public ReferenceCrash(String pythonException, String detail) {
        this(pythonException, detail, null);
    }

    private ReferenceCrash(String pythonException, String detail, Rule rule) {
        super(pythonException + ": " + detail, null, false, false);
        this.pythonException = pythonException;
        this.detail = detail;
        this.rule = rule;
    }

    /** The same crash, noting the rule being evaluated when it happened. */
    ReferenceCrash at(Rule where) {
        return rule != null ? this : new ReferenceCrash(pythonException, detail, where);
    }

    /** The rule being evaluated, or null when unknown. */
    public Rule rule() {
        return rule;
    }

    /** {@code KeyError}, {@code AttributeError} or {@code AssertionError}. */
    public String pythonException() {
        return pythonException;
    }
}
