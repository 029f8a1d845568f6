package dev.qrexec.broker.agent;

/** qrexec's reserved exit statuses (spec 2.4). */
public final class ExitCodes {

    /** qrexec-level failure: the service could not be run, the channel broke. */
    public static final int PROBLEM = 125;
    /** The call was refused by policy, or the service file exists but cannot be executed. */
    public static final int REQUEST_REFUSED = 126;
    /** No service of that name in the target. */
    public static final int SERVICE_NOT_FOUND = 127;

    private ExitCodes() {
    }
}
