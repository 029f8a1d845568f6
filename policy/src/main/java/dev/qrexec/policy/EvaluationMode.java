package dev.qrexec.policy;

/**
 * How the caller of the policy wants an answer (spec 5.8). The engine's {@link Decision} does not
 * depend on the mode; the mode changes how a decision becomes a daemon reply
 * ({@link dev.qrexec.policy.reply.DaemonReply}).
 */
public enum EvaluationMode {
    /** Ask goes to the person at the GUI prompt; allow is rendered in full. */
    NORMAL(false, false),
    /** Only say allow or deny; an ask is a deny; nobody is notified. */
    JUST_EVALUATE(true, false),
    /** An ask is answered "yes" with the intended target itself. */
    ASSUME_YES_FOR_ASK(false, true),
    /** Both: used by {@code policy.EvalSimple} / {@code policy.EvalGUI}. */
    JUST_EVALUATE_ASSUME_YES(true, true);

    private final boolean justEvaluate;
    private final boolean assumeYesForAsk;

    EvaluationMode(boolean justEvaluate, boolean assumeYesForAsk) {
        this.justEvaluate = justEvaluate;
        this.assumeYesForAsk = assumeYesForAsk;
    }

    public boolean justEvaluate() {
        return justEvaluate;
    }

    public boolean assumeYesForAsk() {
        return assumeYesForAsk;
    }

    /** The mode for the two flags of the policy.sock request. */
    public static EvaluationMode of(boolean justEvaluate, boolean assumeYesForAsk) {
        if (justEvaluate) {
            return assumeYesForAsk ? JUST_EVALUATE_ASSUME_YES : JUST_EVALUATE;
        }
        return assumeYesForAsk ? ASSUME_YES_FOR_ASK : NORMAL;
    }
}
