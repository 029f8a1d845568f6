package dev.qrexec.dispvm.event;

import java.time.Instant;
import java.util.Objects;

/**
 * Something the manager did or saw, for status displays and logs.
 *
 * @param kind     what happened
 * @param qube     the qube concerned (a disposable or, for refills, the template)
 * @param template the disposable template concerned, "" when none
 * @param detail   human-readable reason or numbers
 * @param at       when
 */
public record DispvmEvent(Kind kind, String qube, String template, String detail, Instant at) {

    public enum Kind {
        /** A refill of a template's queue was scheduled (detail: reason and delay). */
        REFILL_SCHEDULED,
        /** A refill found no room in memory for some preloads (detail: wanted / possible). */
        REFILL_LIMITED_BY_MEMORY,
        /** A slot in the queue was taken: the preload's qube exists, halted. */
        PRELOAD_RESERVED,
        /** Its qube booted. */
        PRELOAD_STARTED,
        /** Paused (or claimed before the pause) and complete. */
        PRELOAD_READY,
        /** Its creation failed; nothing is left of it. */
        PRELOAD_FAILED,
        /** Removed from the queue (trim, outdated, template change, restart recovery). */
        PRELOAD_DISCARDED,
        /** Claimed by a caller. */
        PRELOAD_CLAIMED,
        /** Unpaused by someone other than a caller: now an ordinary disposable. */
        PRELOAD_USED_UNREQUESTED,
        /** Handed to a caller (detail says preloaded or cold, and the time). */
        DISPOSABLE_DELIVERED,
        /** Killed and cleaned up. */
        DISPOSABLE_RELEASED,
        /** A running qube's network was (re)attached to its netvm (detail: netvm, and what it replaced). */
        NETWORK_ATTACHED,
        /** A netvm change of a paused qube was recorded, not applied (detail: the original netvm). */
        NETWORK_DEFERRED,
        QUBE_CREATED,
        QUBE_REMOVED,
        PROPERTY_CHANGED,
        FEATURE_CHANGED
    }

    public DispvmEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(qube, "qube");
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(at, "at");
    }

    public static DispvmEvent of(Kind kind, String qube, String template, String detail) {
        return new DispvmEvent(kind, qube, template, detail, Instant.now());
    }
}
