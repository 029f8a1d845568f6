package dev.qrexec.broker.agent;

/** How the agent honours the user named in a command line. */
public enum UserMode {
    /**
     * Run every service as the agent's own user. For agents that are not root (sandboxed qubes, tests):
     * the requested user is only validated and logged, as the agent cannot switch to it.
     */
    SELF,
    /** Root agents: run as the requested user through {@code runuser}; an unknown user fails with 125. */
    SWITCH
}
