package dev.qrexec.policy.daemon;

/**
 * The two socket services with which qubes ask the policy a yes/no question (spec 7.2). Both
 * evaluate in {@code just_evaluate} + {@code assume_yes_for_ask} mode and answer
 * {@code result=allow\n} or {@code result=deny\n}.
 */
public enum EvalService {
    /** {@code policy.EvalSimple}: any caller qrexec lets through. */
    SIMPLE("policy.EvalSimple", false),
    /** {@code policy.EvalGUI}: only a GUI qube, and only about qubes it provides the GUI of. */
    GUI("policy.EvalGUI", true);

    private final String serviceName;
    private final boolean guiCheck;

    EvalService(String serviceName, boolean guiCheck) {
        this.serviceName = serviceName;
        this.guiCheck = guiCheck;
    }

    /** The qrexec service name that must appear in the connection's header. */
    public String serviceName() {
        return serviceName;
    }

    /** Whether source and target must both carry the tag {@code guivm-<caller>}. */
    public boolean guiCheck() {
        return guiCheck;
    }
}
