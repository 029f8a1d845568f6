package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.libvirt.binding.DomainHandle;

/** libvirt's domain states, state reasons and event codes, translated into ours and into words. */
final class LibvirtStates {

    private static final String[] EVENTS = {
        "DEFINED", "UNDEFINED", "STARTED", "SUSPENDED", "RESUMED", "STOPPED", "SHUTDOWN", "PMSUSPENDED", "CRASHED"};
    /** {@code virDomainShutoffReason}, as the reason of a qube that died. */
    private static final String[] SHUTOFF_REASONS = {
        "stopped for an unknown reason", "shut down by the guest", "destroyed outside this backend", "crashed",
        "migrated away", "saved", "failed to run", "reverted to a snapshot", "stopped by libvirtd"};

    private LibvirtStates() {
    }

    /** Our state for a domain found at recovery. */
    static QubeState toQubeState(int libvirtState) {
        return switch (libvirtState) {
            case DomainHandle.STATE_RUNNING, DomainHandle.STATE_BLOCKED -> QubeState.RUNNING;
            case DomainHandle.STATE_PAUSED, DomainHandle.STATE_PMSUSPENDED -> QubeState.PAUSED;
            case DomainHandle.STATE_SHUTDOWN -> QubeState.STOPPING;
            case DomainHandle.STATE_CRASHED -> QubeState.CRASHED;
            default -> QubeState.HALTED;  // shut off, or no state
        };
    }

    /**
     * The state a life-cycle event says the domain is in, or null when it says nothing we track
     * (undefined, shutdown requested, crashed, PM-suspended: those always get a re-read).
     */
    static QubeState impliedByEvent(int event) {
        return switch (event) {
            case 0 -> QubeState.HALTED;   // DEFINED
            case 2, 4 -> QubeState.RUNNING;  // STARTED, RESUMED
            case 3 -> QubeState.PAUSED;   // SUSPENDED
            case 5 -> QubeState.HALTED;   // STOPPED
            default -> null;
        };
    }

    static boolean isOff(int libvirtState) {
        return libvirtState == DomainHandle.STATE_SHUTOFF || libvirtState == DomainHandle.STATE_CRASHED
                || libvirtState == DomainHandle.STATE_NOSTATE;
    }

    static boolean isRunning(int libvirtState) {
        return libvirtState == DomainHandle.STATE_RUNNING || libvirtState == DomainHandle.STATE_BLOCKED;
    }

    /** Why a domain is off, from {@code virDomainGetState}'s state and reason. */
    static String stopReason(int libvirtState, int reason) {
        if (libvirtState == DomainHandle.STATE_CRASHED) {
            return "crashed";
        }
        return reason >= 0 && reason < SHUTOFF_REASONS.length ? SHUTOFF_REASONS[reason] : SHUTOFF_REASONS[0];
    }

    /** {@code STOPPED/1} style text of a life-cycle event, for logs. */
    static String describeEvent(int event, int detail) {
        String name = event >= 0 && event < EVENTS.length ? EVENTS[event] : "EVENT_" + event;
        return name + "/" + detail;
    }
}
