package dev.qrexec.xen;

import java.time.Instant;
import java.util.Objects;

/**
 * A change of a qube's power state, as reported by the backend.
 *
 * @param qube   qube name
 * @param kind   what happened
 * @param reason why, for {@link Kind#HALTED} and {@link Kind#DIED} (e.g. "shutdown", "killed",
 *               "init exited with status 1", "out of memory"); empty otherwise
 * @param at     when the backend observed it
 */
public record LifecycleEvent(String qube, Kind kind, String reason, Instant at) {

    /**
     * What happened. Per qube, events follow the life-cycle: STARTED, then any PAUSED/UNPAUSED
     * pairs, then HALTED or DIED. A qube that stops before it finished starting (killed, crashed,
     * failed) has no event: its start future reports that.
     */
    public enum Kind {
        STARTED, PAUSED, UNPAUSED,
        /** Stopped because it was asked to (shutdown, kill). */
        HALTED,
        /** Stopped without being asked to (crash, OOM kill, init exited). */
        DIED
    }

    public LifecycleEvent {
        Objects.requireNonNull(qube, "qube");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(at, "at");
    }
}
