package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.libvirt.binding.DomainHandle;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

import static java.lang.System.Logger.Level.WARNING;

/**
 * State changes of a qube and what goes with them: publishing the event, and on a stop, cleaning
 * up storage, waking shutdown waiters and updating host memory. Every method runs on the qube's
 * serial queue (an op thread), so one qube's transitions never interleave.
 */
final class QubeTransitions {

    private static final System.Logger LOG = System.getLogger(QubeTransitions.class.getName());

    private final LibvirtConnection conn;
    private final QubeStorage storage;
    private final HostMemoryAccount hostMemory;
    private final EventDispatcher dispatcher;

    QubeTransitions(LibvirtConnection conn, QubeStorage storage, HostMemoryAccount hostMemory,
                    EventDispatcher dispatcher) {
        this.conn = conn;
        this.storage = storage;
        this.hostMemory = hostMemory;
        this.dispatcher = dispatcher;
    }

    /** Sets the state and publishes the event that says so. */
    void transition(ManagedQube q, QubeState state, LifecycleEvent.Kind kind, String reason) {
        q.state(state);
        dispatcher.publish(new LifecycleEvent(q.name(), kind, reason, Instant.now()));
    }

    /** On the qube's queue: if the shutdown finished, completes it. */
    Void watchShutdown(ManagedQube q) {
        if (q.state() != QubeState.STOPPING) {
            return null;
        }
        try (DomainHandle d = conn.lookupByUuid(q.uuid)) {
            if (d == null || LibvirtStates.isOff(d.state()[0])) {
                finishHalt(q, "shutdown");
            }
        }
        return null;
    }

    /** On the qube's queue: destroys the domain if it still runs, then cleans up. */
    void killNow(ManagedQube q, String reason) {
        try (DomainHandle d = conn.lookupByUuid(q.uuid)) {
            if (d != null && !LibvirtStates.isOff(d.state()[0])) {
                d.destroy();
            }
        }
        finishHalt(q, reason);
    }

    /** On the qube's queue: the domain is off; release storage, publish, wake shutdown waiters. */
    void finishHalt(ManagedQube q, String reason) {
        q.cancelTimers();
        HypervisorException cleanupError = releaseStorageQuietly(q);
        q.currentBytes(0);
        transition(q, QubeState.HALTED, LifecycleEvent.Kind.HALTED, reason);
        hostMemory.refresh();
        CompletableFuture<Void> halted = q.halted;
        q.halted = null;
        if (cleanupError != null) {
            if (halted != null) {
                halted.completeExceptionally(cleanupError);
            }
            throw cleanupError;
        }
        if (halted != null) {
            halted.complete(null);
        }
    }

    /** On the qube's queue: it stopped without being asked to. */
    void died(ManagedQube q, String reason) {
        q.cancelTimers();
        transition(q, QubeState.CRASHED, LifecycleEvent.Kind.DIED, reason);
        releaseStorageQuietly(q);  // nobody to report a failure to but the log
        q.currentBytes(0);
        q.state(QubeState.HALTED);
        hostMemory.refresh();
        if (q.halted != null) {
            q.halted.complete(null);
            q.halted = null;
        }
    }

    /** Releases the qube's storage; a failure is logged and returned, not thrown. */
    HypervisorException releaseStorageQuietly(ManagedQube q) {
        try {
            storage.release(q.spec);
            return null;
        } catch (RuntimeException e) {
            LOG.log(WARNING, "qube " + q.name() + ": storage cleanup failed", e);
            return new HypervisorException.OperationFailed(e.getMessage(), e);
        }
    }
}
