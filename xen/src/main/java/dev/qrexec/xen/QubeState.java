package dev.qrexec.xen;

/** Power state of a defined qube, as the backend sees it. */
public enum QubeState {
    /** Defined, not running. The initial state, and the state after a halt or a kill. */
    HALTED,
    /** {@link Hypervisor#start} accepted; the qube is booting. */
    STARTING,
    /** Running and scheduled. */
    RUNNING,
    /** Frozen: holds its memory, uses no CPU. */
    PAUSED,
    /** A shutdown or kill is under way. */
    STOPPING,
    /** Died without being asked to (crash, OOM, init exited); becomes HALTED once cleaned up. */
    CRASHED
}
