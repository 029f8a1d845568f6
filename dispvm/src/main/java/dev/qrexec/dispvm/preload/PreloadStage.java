package dev.qrexec.dispvm.preload;

/**
 * Where a preload is in its life (spec 2.1). Runtime only: after a restart, only a qube that was
 * {@link #READY} (and is still paused) comes back, as READY; everything else is discarded.
 *
 * <pre>
 * RESERVED → STARTING → WAITING_OPERATIONAL → BALLOONING → PAUSING → READY
 *     any of those ──claim──→ CLAIMED ──unpause / skip──→ USED
 *     READY ──unpaused by someone else──→ USED
 *     any but USED ──failure / trim / outdated / template gone──→ DISCARDED
 * </pre>
 */
public enum PreloadStage {
    /** Slot taken: qube in the registry and in the queue; not yet defined in the hypervisor. */
    RESERVED,
    /** Defined and booting. */
    STARTING,
    /** Booted; waiting for the agent to say the system is operational. */
    WAITING_OPERATIONAL,
    /** Asking the qube to come down to its preferred memory before the pause. */
    BALLOONING,
    /** Pause requested. */
    PAUSING,
    /** Paused, complete, waiting in the queue. */
    READY,
    /** Taken out of the queue by a caller; delivery under way. */
    CLAIMED,
    /** An ordinary disposable now; the engine no longer tracks it. */
    USED,
    /** Out of the queue and being (or already) cleaned up. */
    DISCARDED;

    /** Still counted as a preload (is_preload): in the queue or claimed but not delivered. */
    public boolean isPreload() {
        return this != USED && this != DISCARDED;
    }
}
