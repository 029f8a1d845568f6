package dev.qrexec.policy.eval;

/**
 * The reference engine would crash at this point of the evaluation (spec 5, 10); we deny quietly
 * instead. The message names the Python exception the reference raises and why.
 */
public final class ReferenceCrash extends Exception {
    private static final long serialVersionUID = 1L;

    private final String pythonException;

    public ReferenceCrash(String pythonException, String detail) {
        super(pythonException + ": " + detail, null, false, false);
        this.pythonException = pythonException;
    }

    /** {@code KeyError}, {@code AttributeError} or {@code AssertionError}. */
    public String pythonException() {
        return pythonException;
    }
}
